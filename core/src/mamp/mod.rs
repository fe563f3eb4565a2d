//! Import of MAMP checkpoints (`checkpoint-N.pth` as MAMP's `main_pretrain.py` writes it: a zip
//! pickle holding `model`, `optimizer`, `epoch`, `scaler` and the `args` Namespace) into our model.
//!
//! Shapes give the widths, depths, patch length, frames and joints; `args` gives the head count
//! (which no shape carries). The MAMP self-attention decoder comes along when its width equals the
//! encoder's, so a MAMP run can go on training here; otherwise only the encoder is imported and the
//! config's AMR decoder starts fresh.
//!
//! Key mapping (PyTorch `Linear.weight` is [out, in], ours [in, out], so every linear is transposed):
//! `joints_embed.proj` (Conv2d [D, 3, l, 1]) -> `encoder.embed.proj` ([l 3, D], row u 3 + c);
//! `temp_embed`, `pos_embed` -> `encoder.embed.*`; `blocks.i.attn.qkv` -> `query`/`key`/`value`
//! (rows 0..D, D..2D, 2D..3D); `attn.proj` -> `attn.output`; `norm*.weight/bias` -> `gamma/beta`;
//! `decoder_*` -> `mamp.*`. A fine-tuned checkpoint's `head.*` keys are skipped.

pub mod pickle;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use pickle::{PyValue, read_pickle};

use crate::error::DataError;
use crate::model::{AmrConfig, DecoderKind, NamedParams, NamedTensor, check_params};

/// A MAMP checkpoint turned into our parameter names.
#[derive(Debug, Clone)]
pub struct MampImport {
    /// The model config read from the shapes and `args`.
    pub config: AmrConfig,
    /// Parameters in our names.
    pub params: NamedParams,
    /// The epoch stored in the checkpoint.
    pub epoch: Option<i64>,
    /// Whether the MAMP decoder was imported too.
    pub decoder_imported: bool,
    /// Keys that were skipped (a fine-tuning head).
    pub skipped: Vec<String>,
}

fn bad(path: &Path, field: &str, msg: impl Into<String>) -> DataError {
    DataError::at_field(path, field, msg)
}

/// The plain-data root of a checkpoint's `data.pkl` (the dict holding `args`, `epoch`, ...; tensors
/// appear as [`PyValue::Opaque`]).
pub fn read_checkpoint_root(path: &Path) -> Result<PyValue, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| DataError::in_file(path, format!("not a PyTorch zip checkpoint: {e}")))?;
    let name = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().and_then(|f| f.name().ok().map(|n| n.to_string())))
        .find(|n| n.ends_with("data.pkl"))
        .ok_or_else(|| DataError::in_file(path, "the zip has no data.pkl"))?;
    let mut bytes = Vec::new();
    zip.by_name(&name)
        .map_err(|e| DataError::in_file(path, e.to_string()))?
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::io(path, e))?;
    read_pickle(&bytes).map_err(|e| bad(path, &name, e.0))
}

fn tensor(t: &pytorch_reader::Tensor, path: &Path) -> Result<NamedTensor, DataError> {
    let bytes = t.read().map_err(|e| DataError::io(path, e))?;
    let values: Vec<f32> = match t.dtype() {
        pytorch_reader::DType::F32 => {
            bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        }
        pytorch_reader::DType::F16 => {
            bytes.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
        }
        pytorch_reader::DType::BF16 => {
            bytes.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
        }
        other => return Err(bad(path, &t.name, format!("expected a float tensor, found {other:?}"))),
    };
    Ok(NamedTensor { shape: t.shape().to_vec(), values })
}

fn transpose(t: &NamedTensor) -> NamedTensor {
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut v = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            v[j * r + i] = t.values[i * c + j];
        }
    }
    NamedTensor { shape: vec![c, r], values: v }
}

fn rows(t: &NamedTensor, from: usize, to: usize) -> NamedTensor {
    let c: usize = t.shape[1..].iter().product();
    let mut shape = t.shape.clone();
    shape[0] = to - from;
    NamedTensor { shape, values: t.values[from * c..to * c].to_vec() }
}

fn count_blocks(keys: &HashMap<String, NamedTensor>, prefix: &str) -> usize {
    (0..).take_while(|i| keys.contains_key(&format!("{prefix}.{i}.norm1.weight"))).count()
}

fn dim_at(keys: &HashMap<String, NamedTensor>, key: &str, axis: usize, path: &Path) -> Result<usize, DataError> {
    keys.get(key)
        .and_then(|t| t.shape.get(axis).copied())
        .ok_or_else(|| bad(path, &format!("model.{key}"), "missing; not a MAMP transformer checkpoint"))
}

/// Maps one MAMP block (`src` prefix) to ours (`dst` prefix).
fn block(
    src: &str,
    dst: &str,
    dim: usize,
    m: &HashMap<String, NamedTensor>,
    out: &mut NamedParams,
    used: &mut Vec<String>,
) {
    let mut put = |k: &str, t: NamedTensor| {
        out.insert(format!("{dst}.{k}"), t);
    };
    for (n, ours) in [("norm1", "norm1"), ("norm2", "norm2")] {
        if let Some(t) = m.get(&format!("{src}.{n}.weight")) {
            put(&format!("{ours}.gamma"), t.clone());
        }
        if let Some(t) = m.get(&format!("{src}.{n}.bias")) {
            put(&format!("{ours}.beta"), t.clone());
        }
    }
    if let Some(w) = m.get(&format!("{src}.attn.qkv.weight")) {
        for (i, name) in ["query", "key", "value"].iter().enumerate() {
            put(&format!("attn.{name}.weight"), transpose(&rows(w, i * dim, (i + 1) * dim)));
        }
    }
    let zero_bias = NamedTensor { shape: vec![3 * dim], values: vec![0.0; 3 * dim] };
    let qkv_bias = m.get(&format!("{src}.attn.qkv.bias")).unwrap_or(&zero_bias);
    for (i, name) in ["query", "key", "value"].iter().enumerate() {
        put(&format!("attn.{name}.bias"), rows(qkv_bias, i * dim, (i + 1) * dim));
    }
    for (theirs, ours) in [("attn.proj", "attn.output"), ("mlp.fc1", "mlp.fc1"), ("mlp.fc2", "mlp.fc2")] {
        if let Some(w) = m.get(&format!("{src}.{theirs}.weight")) {
            put(&format!("{ours}.weight"), transpose(w));
        }
        if let Some(b) = m.get(&format!("{src}.{theirs}.bias")) {
            put(&format!("{ours}.bias"), b.clone());
        }
    }
    used.extend(m.keys().filter(|k| k.starts_with(&format!("{src}."))).cloned());
}

/// Reads a MAMP checkpoint. With `config`, the shapes must fit it (every mismatched key is listed);
/// without, the config is read from the checkpoint.
pub fn import_mamp(path: &Path, config: Option<&AmrConfig>) -> Result<MampImport, DataError> {
    let reader = pytorch_reader::PytorchReader::with_top_level_key(path, "model")
        .or_else(|_| pytorch_reader::PytorchReader::new(path))
        .map_err(|e| DataError::in_file(path, format!("not a readable PyTorch checkpoint: {e}")))?;
    let mut m = HashMap::new();
    for (k, t) in reader.tensors() {
        let k = k.strip_prefix("module.").unwrap_or(k).to_string();
        m.insert(k, tensor(t, path)?);
    }
    let root = read_checkpoint_root(path)?;
    let arg = |k: &str| root.get("args").and_then(|a| a.get(k)).and_then(PyValue::as_int).map(|v| v as usize);
    let epoch = root.get("epoch").and_then(PyValue::as_int);

    let dim = dim_at(&m, "norm.weight", 0, path)?;
    let patch = dim_at(&m, "joints_embed.proj.weight", 2, path)?;
    if dim_at(&m, "joints_embed.proj.weight", 1, path)? != 3 || dim_at(&m, "joints_embed.proj.weight", 3, path)? != 1 {
        return Err(bad(path, "model.joints_embed.proj.weight", "expected [dim, 3, t_patch, 1] (one joint per patch)"));
    }
    let frames = dim_at(&m, "temp_embed", 1, path)? * patch;
    let joints = dim_at(&m, "pos_embed", 2, path)?;
    let mlp = dim_at(&m, "blocks.0.mlp.fc1.weight", 0, path)?;
    let heads = match (arg("num_heads"), config) {
        (Some(h), _) => h,
        (None, Some(c)) => c.heads,
        (None, None) => {
            return Err(bad(path, "args.num_heads", "missing: the head count is in no tensor shape; pass a config"));
        }
    };
    let dec_depth = count_blocks(&m, "decoder_blocks");
    let dec_dim = m.get("decoder_embed.weight").map(|t| t.shape[0]);
    let decoder_fits = dec_depth > 0
        && dec_dim == Some(dim)
        && m.get("decoder_blocks.0.mlp.fc1.weight").map(|t| t.shape[0]) == Some(mlp);
    let derived = AmrConfig::new()
        .with_frames(frames)
        .with_joints(joints)
        .with_patch(patch)
        .with_dim(dim)
        .with_heads(heads)
        .with_mlp(mlp)
        .with_encoder_depth(count_blocks(&m, "blocks"))
        .with_decoder_depth(if decoder_fits { dec_depth } else { 1 })
        .with_decoder(if decoder_fits { DecoderKind::Mamp } else { DecoderKind::Amr })
        .with_r((1..=6).rev().find(|r| (frames / patch).is_multiple_of(*r)).unwrap_or(1));
    let config = match config {
        Some(c) => c.clone(),
        None => derived,
    };

    let mut out = NamedParams::new();
    let mut used = Vec::new();
    if let Some(w) = m.get("joints_embed.proj.weight") {
        // ours[u * 3 + c][d] = W[d][c][u][0]
        let mut v = vec![0.0; patch * 3 * dim];
        for d in 0..dim {
            for c in 0..3 {
                for u in 0..patch {
                    v[(u * 3 + c) * dim + d] = w.values[(d * 3 + c) * patch + u];
                }
            }
        }
        out.insert("encoder.embed.proj.weight".into(), NamedTensor { shape: vec![patch * 3, dim], values: v });
    }
    let copies = [
        ("joints_embed.proj.bias", "encoder.embed.proj.bias"),
        ("temp_embed", "encoder.embed.temp_embed"),
        ("pos_embed", "encoder.embed.pos_embed"),
        ("norm.weight", "encoder.norm.gamma"),
        ("norm.bias", "encoder.norm.beta"),
    ];
    for (theirs, ours) in copies {
        if let Some(t) = m.get(theirs) {
            out.insert(ours.into(), t.clone());
        }
    }
    used.extend(["joints_embed.proj.weight".to_string()]);
    used.extend(copies.iter().map(|(t, _)| t.to_string()));
    for i in 0..count_blocks(&m, "blocks") {
        block(&format!("blocks.{i}"), &format!("encoder.blocks.{i}"), dim, &m, &mut out, &mut used);
    }
    // The config's model: its shapes are what the import must fit, and its own decoder (seeded) fills
    // in when the MAMP decoder is not imported.
    let model = config.init_seeded(&crate::backend::cpu_device(), 0);
    let decoder_imported = config.decoder == DecoderKind::Mamp && decoder_fits;
    if decoder_imported {
        for (theirs, ours) in [
            ("mask_token", "mamp.mask_token"),
            ("decoder_temp_embed", "mamp.temp_embed"),
            ("decoder_pos_embed", "mamp.pos_embed"),
            ("decoder_norm.weight", "mamp.norm.gamma"),
            ("decoder_norm.bias", "mamp.norm.beta"),
            ("decoder_embed.bias", "mamp.embed.bias"),
            ("decoder_pred.bias", "mamp.pred.bias"),
        ] {
            if let Some(t) = m.get(theirs) {
                out.insert(ours.into(), t.clone());
            }
        }
        for (theirs, ours) in
            [("decoder_embed.weight", "mamp.embed.weight"), ("decoder_pred.weight", "mamp.pred.weight")]
        {
            if let Some(t) = m.get(theirs) {
                out.insert(ours.into(), transpose(t));
            }
        }
        for i in 0..dec_depth {
            block(&format!("decoder_blocks.{i}"), &format!("mamp.blocks.{i}"), dim, &m, &mut out, &mut used);
        }
    } else {
        // The config's own decoder starts from the seeded initialisation.
        let fresh = crate::model::named_params(&model);
        out.extend(fresh.into_iter().filter(|(k, _)| !k.starts_with("encoder.")));
    }
    let decoder_key =
        |k: &str| k.starts_with("decoder_") || k == "mask_token" || (!decoder_imported && k.starts_with("decoder"));
    let skipped: Vec<String> =
        m.keys().filter(|k| k.starts_with("head.") || (!decoder_imported && decoder_key(k))).cloned().collect();
    let mut unknown: Vec<String> = m
        .keys()
        .filter(|k| !(used.contains(k) || skipped.contains(k) || (decoder_imported && decoder_key(k))))
        .cloned()
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Err(bad(path, "model", format!("keys this import does not know: {}", unknown.join(", "))));
    }
    check_params(&model, &out)
        .map_err(|e| bad(path, "model", format!("the checkpoint does not fit the model config: {e}")))?;
    let mut skipped = skipped;
    skipped.sort();
    Ok(MampImport { config, params: out, epoch, decoder_imported, skipped })
}
