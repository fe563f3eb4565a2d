//! The evaluation run config: one TOML file per run, with the published constants as defaults for
//! each protocol (reference spec 3.1-3.4 for the linear probe and fine-tuning, 6.3-6.4 for MaskCLR).

use crate::data::clip::ClipConfig;
use crate::model::AmrConfig;

use super::knn::KnnConfig;
use crate::data::Split;
use crate::error::ConfigError;

/// Which evaluation a run performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Frozen encoder, BatchNorm + linear head, SGD.
    Linear,
    /// The whole model with the MLP head, layer-wise lr decay, drop path, label smoothing.
    Finetune,
    /// Fine-tuning on a per-class share of the training labels (`finetune.label_fraction`).
    Semi,
    /// Fine-tuning from an encoder pretrained on another dataset of the same joint layout.
    Transfer,
    /// Weighted cosine kNN on frozen features.
    Knn,
    /// Supervised training with MaskCLR's optimiser and schedule, cross-entropy only (the baseline of
    /// the robustness suite).
    Supervised,
    /// MaskCLR: cross-entropy first, then the masked pathway with the contrastive losses.
    Maskclr,
}

impl Protocol {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Finetune => "finetune",
            Self::Semi => "semi",
            Self::Transfer => "transfer",
            Self::Knn => "knn",
            Self::Supervised => "supervised",
            Self::Maskclr => "maskclr",
        }
    }

    /// Whether the whole model trains with the MLP head (everything but the linear probe and kNN).
    pub fn trains_encoder(self) -> bool {
        !matches!(self, Self::Linear | Self::Knn)
    }

    /// Whether the run uses MaskCLR's optimiser and schedule.
    pub fn maskclr_schedule(self) -> bool {
        matches!(self, Self::Supervised | Self::Maskclr)
    }
}

/// Linear probe settings (spec 3.1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearSettings {
    /// Peak learning rate (cosine to 0 per iteration, no warm-up).
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// SGD weight decay.
    pub weight_decay: f64,
    /// 0: fresh augmented clips every epoch (the published protocol). k > 0: the frozen features of k
    /// augmented views of every training clip are computed once and epoch e uses view e mod k (k times
    /// cheaper per epoch on a CPU; say so when reporting). The views are not stored in checkpoints: a
    /// resumed run draws new ones.
    pub cached_views: usize,
}

impl Default for LinearSettings {
    fn default() -> Self {
        Self { lr: 0.1, momentum: 0.9, weight_decay: 0.0, cached_views: 0 }
    }
}

/// Fine-tuning settings (spec 3.2, 3.3).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneSettings {
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate.
    pub min_lr: f64,
    /// Linear warm-up epochs.
    pub warmup_epochs: f64,
    /// Layer-wise lr decay: scale 0.8^(depth + 1 - id), embeddings id 0, block i id i + 1, the rest 1.
    pub layer_decay: f64,
    /// Stochastic depth rate of the last block (linearly from 0 over the blocks).
    pub drop_path: f64,
    /// Dropout on the token grid before the head.
    pub dropout: f64,
    /// Label smoothing of the cross-entropy.
    pub label_smoothing: f64,
    /// Share of training clips that take the arms' or the legs' movement from another clip of the
    /// batch, with a target shared by the movement each source carries (body-part mixing,
    /// [`crate::data::PartMixer`]); 0 as published.
    pub part_mix: f64,
    /// AdamW weight decay (not on 1-D parameters).
    pub weight_decay: f64,
    /// Hidden units of the MLP head.
    pub hidden: usize,
    /// Semi-supervised runs: the share of each class's training labels used (0.01 or 0.1), drawn once
    /// from `seed`; the chosen indices are written to the run folder. Other protocols use every label.
    pub label_fraction: f64,
    /// The model tested and saved is the uniform average of the weights after each of the last
    /// `average_epochs` epochs (stochastic weight averaging; 0: the last epoch's weights, as published).
    pub average_epochs: usize,
    /// The model tested and saved has its head's BatchNorm running statistics recomputed after every
    /// epoch over the centre clips of the training sequences, without dropout (stochastic weight
    /// averaging's BatchNorm update; false: the statistics kept during training, as published).
    pub recompute_norm: bool,
}

impl Default for FinetuneSettings {
    fn default() -> Self {
        Self {
            lr: 3e-4,
            min_lr: 1e-5,
            warmup_epochs: 5.0,
            layer_decay: 0.8,
            drop_path: 0.3,
            dropout: 0.3,
            label_smoothing: 0.1,
            part_mix: 0.0,
            weight_decay: 0.05,
            hidden: 2048,
            label_fraction: 1.0,
            average_epochs: 0,
            recompute_norm: false,
        }
    }
}

/// Which representation the contrastive losses compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContrastOn {
    /// The head's hidden features after the ReLU (the paper's representations; default).
    #[default]
    Features,
    /// The logits (what the released code does).
    Logits,
}

/// MaskCLR settings (spec 6.2-6.4 and the paper's 4.2).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskClrSettings {
    /// Epochs of cross-entropy alone before the masked pathway starts (paper: 300 of 600).
    pub start_epoch: usize,
    /// Share of tokens masked by AGPM.
    pub mask_ratio: f64,
    /// AGPM temperature.
    pub tau: f64,
    /// Weight of L_sc between the standard and masked pathways.
    pub alpha: f64,
    /// Weight of L_cc between the standard and masked pathways.
    pub beta: f64,
    /// Weight of L_sc between the standard and noisy pathways (0 turns the noisy pathway off).
    pub gamma: f64,
    /// Weight of L_cc between the standard and noisy pathways.
    pub delta: f64,
    /// Temperature of L_sc (NT-Xent).
    pub tau_sim: f64,
    /// Temperature of L_cc (SupCon).
    pub tau_prop: f64,
    /// Noise of the noisy pathway, metres.
    pub noise_sigma: f64,
    /// What the contrastive losses compare.
    pub contrast_on: ContrastOn,
    /// Encoder learning rate.
    pub backbone_lr: f64,
    /// Head (and mask token) learning rate.
    pub head_lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Learning rates are multiplied by this after every epoch (StepLR).
    pub lr_decay: f64,
    /// Dropout on the token grid before the head.
    pub dropout: f64,
    /// Stochastic depth rate of the last encoder block (linearly from 0 over the blocks), as in
    /// fine-tuning; 0 as published (MaskCLR trains without it).
    pub drop_path: f64,
    /// Label smoothing of the cross-entropy, as in fine-tuning; 0 as published.
    pub label_smoothing: f64,
    /// Body-part mixing, as `finetune.part_mix`; 0 as published.
    pub part_mix: f64,
    /// Hidden units of the MLP head.
    pub hidden: usize,
    /// The model tested and saved is the uniform average of the weights after each of the last
    /// `average_epochs` epochs (stochastic weight averaging; 0: the last epoch's weights, as published).
    pub average_epochs: usize,
    /// The model tested and saved has its head's BatchNorm running statistics recomputed after every
    /// epoch over the centre clips of the training sequences, without dropout (stochastic weight
    /// averaging's BatchNorm update; false: the statistics kept during training, as published).
    pub recompute_norm: bool,
}

impl Default for MaskClrSettings {
    fn default() -> Self {
        Self {
            start_epoch: 300,
            mask_ratio: 0.5,
            tau: 0.75,
            alpha: 0.9,
            beta: 0.1,
            gamma: 0.9,
            delta: 0.7,
            tau_sim: 0.7,
            tau_prop: 0.7,
            noise_sigma: 0.003,
            contrast_on: ContrastOn::Features,
            backbone_lr: 1e-4,
            head_lr: 1e-3,
            weight_decay: 0.01,
            lr_decay: 0.99,
            dropout: 0.5,
            drop_path: 0.0,
            label_smoothing: 0.0,
            part_mix: 0.0,
            hidden: 2048,
            average_epochs: 0,
            recompute_norm: false,
        }
    }
}

/// Everything that defines an evaluation run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// The protocol (set by the command).
    pub protocol: Protocol,
    /// The dataset file (amr-skeleton-v1), or `embedded` for the demo data.
    pub data: String,
    /// Train/test split.
    pub split: Split,
    /// The pretrained encoder: an AMR checkpoint (.safetensors) or a MAMP checkpoint (.pth); empty for
    /// a randomly initialised encoder of shape `model`.
    pub init: String,
    /// The encoder's shape (taken from `init` when there is one).
    pub model: AmrConfig,
    /// Clips and augmentation (training: random crop and rotation; test: centre crop).
    pub clip: ClipConfig,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Training epochs.
    pub epochs: usize,
    /// Seed of the run: head initialisation, order, crops, dropout, masks, label subsets.
    pub seed: u64,
    /// Linear probe.
    pub linear: LinearSettings,
    /// Fine-tuning, semi-supervised and transfer.
    pub finetune: FinetuneSettings,
    /// kNN.
    pub knn: KnnConfig,
    /// MaskCLR and its supervised baseline.
    pub maskclr: MaskClrSettings,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self::for_protocol(Protocol::Linear)
    }
}

impl crate::train::CheckpointConfig for EvalConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        EvalConfig::validate(self)
    }
}

impl EvalConfig {
    /// The published defaults of `protocol`: batch 256 and 100 epochs for the linear probe, 48 and 100
    /// for fine-tuning, 32 and 600 (300 + 300) for MaskCLR.
    pub fn for_protocol(protocol: Protocol) -> Self {
        let (batch_size, epochs) = match protocol {
            Protocol::Linear | Protocol::Knn => (256, 100),
            Protocol::Finetune | Protocol::Semi | Protocol::Transfer => (48, 100),
            Protocol::Supervised | Protocol::Maskclr => (32, 600),
        };
        let mut finetune = FinetuneSettings::default();
        if protocol == Protocol::Semi {
            finetune.label_fraction = 0.1;
        }
        Self {
            protocol,
            data: "embedded".into(),
            split: Split::Stratified { group: vec!["style".into(), "take".into()], test_share: 0.2, seed: 0 },
            init: String::new(),
            model: AmrConfig::new(),
            clip: ClipConfig::default(),
            batch_size,
            epochs,
            seed: 0,
            linear: LinearSettings::default(),
            finetune,
            knn: KnnConfig::default(),
            maskclr: MaskClrSettings::default(),
        }
    }

    /// Epochs whose weights the saved model averages: `maskclr.average_epochs` for MaskCLR's
    /// schedule, `finetune.average_epochs` for fine-tuning, 0 for the linear probe and kNN.
    pub fn average_epochs(&self) -> usize {
        self.tested_model_section().map_or(0, |s| s.1)
    }

    /// Whether the tested model's head BatchNorm statistics are recomputed on the training clips
    /// (`maskclr.recompute_norm` or `finetune.recompute_norm`, as [`Self::average_epochs`]).
    pub fn recompute_norm(&self) -> bool {
        self.tested_model_section().is_some_and(|s| s.2)
    }

    /// The section that says which model a whole-classifier protocol tests and saves: its name,
    /// `average_epochs` and `recompute_norm` (none for the linear probe and kNN).
    fn tested_model_section(&self) -> Option<(&'static str, usize, bool)> {
        if self.protocol.maskclr_schedule() {
            Some(("maskclr", self.maskclr.average_epochs, self.maskclr.recompute_norm))
        } else if self.protocol.trains_encoder() {
            Some(("finetune", self.finetune.average_epochs, self.finetune.recompute_norm))
        } else {
            None
        }
    }

    /// Checks every field, naming the first that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields().map_err(ConfigError::from_message)
    }

    fn check_fields(&self) -> Result<(), String> {
        self.model.validate()?;
        self.split.validate()?;
        if self.split == Split::All {
            return Err("split.kind = \"all\": evaluation needs a test set".into());
        }
        if self.clip.frames != self.model.frames {
            return Err(format!("clip.frames = {}: must equal model.frames = {}", self.clip.frames, self.model.frames));
        }
        self.clip.validate()?;
        if self.batch_size < 2 {
            return Err(format!("batch_size = {}: expected at least 2 (BatchNorm)", self.batch_size));
        }
        if self.epochs == 0 && self.protocol != Protocol::Knn {
            return Err("epochs = 0: expected at least 1".into());
        }
        if let Some((section, average, _)) = self.tested_model_section()
            && average > self.epochs
        {
            return Err(format!("{section}.average_epochs = {average}: expected at most epochs = {}", self.epochs));
        }
        let share = |name: &str, v: f64, lo_open: bool| {
            let ok = v.is_finite() && v <= 1.0 && if lo_open { v > 0.0 } else { v >= 0.0 };
            if ok {
                Ok(())
            } else {
                Err(format!("{name} = {v}: expected a share in {}, 1]", if lo_open { "(0" } else { "[0" }))
            }
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 { Ok(()) } else { Err(format!("{name} = {v}: expected a positive number")) }
        };
        positive("linear.lr", self.linear.lr)?;
        share("linear.momentum", self.linear.momentum, false)?;
        let f = &self.finetune;
        positive("finetune.lr", f.lr)?;
        if !(f.min_lr >= 0.0 && f.min_lr <= f.lr) {
            return Err(format!("finetune.min_lr = {}: expected a number in [0, finetune.lr]", f.min_lr));
        }
        share("finetune.layer_decay", f.layer_decay, true)?;
        share("finetune.label_fraction", f.label_fraction, true)?;
        for (name, v) in [
            ("finetune.drop_path", f.drop_path),
            ("finetune.dropout", f.dropout),
            ("maskclr.drop_path", self.maskclr.drop_path),
            ("maskclr.dropout", self.maskclr.dropout),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(format!("{name} = {v}: expected a share in [0, 1)"));
            }
        }
        share("finetune.label_smoothing", f.label_smoothing, false)?;
        share("maskclr.label_smoothing", self.maskclr.label_smoothing, false)?;
        share("finetune.part_mix", f.part_mix, false)?;
        share("maskclr.part_mix", self.maskclr.part_mix, false)?;
        if f.hidden == 0 || self.maskclr.hidden == 0 {
            return Err("finetune.hidden and maskclr.hidden must be at least 1".into());
        }
        if self.knn.k == 0 {
            return Err("knn.k = 0: expected at least 1".into());
        }
        positive("knn.temperature", f64::from(self.knn.temperature))?;
        let m = &self.maskclr;
        if !(m.mask_ratio > 0.0 && m.mask_ratio < 1.0) {
            return Err(format!("maskclr.mask_ratio = {}: expected a share in (0, 1)", m.mask_ratio));
        }
        for (name, v) in [
            ("maskclr.tau", m.tau),
            ("maskclr.tau_sim", m.tau_sim),
            ("maskclr.tau_prop", m.tau_prop),
            ("maskclr.backbone_lr", m.backbone_lr),
            ("maskclr.head_lr", m.head_lr),
        ] {
            positive(name, v)?;
        }
        for (name, v) in [
            ("maskclr.alpha", m.alpha),
            ("maskclr.beta", m.beta),
            ("maskclr.gamma", m.gamma),
            ("maskclr.delta", m.delta),
            ("maskclr.noise_sigma", m.noise_sigma),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v}: expected a number >= 0"));
            }
        }
        share("maskclr.lr_decay", m.lr_decay, true)?;
        Ok(())
    }
}

/// Parses an evaluation config for `protocol`: the user's keys over the protocol's defaults; `path`
/// names the file in errors.
pub fn parse_eval_config(
    text: &str,
    path: &std::path::Path,
    protocol: Protocol,
) -> Result<EvalConfig, crate::DataError> {
    crate::config_file::parse_config(text, path, &EvalConfig::for_protocol(protocol), |c: &EvalConfig| {
        if c.protocol != protocol {
            return Err(ConfigError::from_message(format!(
                "protocol = {:?}: this command runs `{}`",
                c.protocol.name(),
                protocol.name()
            )));
        }
        c.validate()
    })
}
