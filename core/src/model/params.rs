//! Parameters by name: every float parameter of a module as `path -> (shape, values)`, read out of a
//! module and written back into one, with every missing, unexpected or mis-shaped key reported at once.
//! Checkpoints, the MAMP import and the optimiser state all go through this one map.

use std::collections::BTreeMap;

use super::Decoder;
use super::decoder::DECODER_CONTAINER;
use crate::error::DeviceError;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::TensorData;

/// One tensor's shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

impl NamedTensor {
    /// A tensor from its values (a blocking read-back of a device tensor; the browser uses
    /// [`Self::from_tensor_async`]).
    pub fn from_tensor<const D: usize>(t: Tensor<D>) -> Self {
        let shape = t.dims().to_vec();
        Self::from_data(shape, t.into_data())
    }

    /// A tensor from its values, read back from the device without blocking.
    pub async fn from_tensor_async<const D: usize>(t: Tensor<D>) -> Result<Self, DeviceError> {
        let shape = t.dims().to_vec();
        let data = t
            .into_data_async()
            .await
            .map_err(|e| DeviceError(format!("reading a tensor back from the device: {e:?}")))?;
        Ok(Self::from_data(shape, data))
    }

    fn from_data(shape: Vec<usize>, data: TensorData) -> Self {
        Self { shape, values: data.convert::<f32>().try_to_vec::<f32>().unwrap_or_default() }
    }

    /// The tensor on `device`; `None` when the rank is not `D`.
    pub fn to_tensor<const D: usize>(&self, device: &Device) -> Option<Tensor<D>> {
        let shape: [usize; D] = self.shape.clone().try_into().ok()?;
        Some(Tensor::from_data(TensorData::new(self.values.clone(), shape), device))
    }
}

/// Parameters keyed by their module path, e.g. `encoder.blocks.0.attn.query.weight`.
pub type NamedParams = BTreeMap<String, NamedTensor>;

/// The keys of a parameter map that do not fit a module.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ParamMismatch {
    /// Keys the module has and the map lacks.
    pub missing: Vec<String>,
    /// Keys the map has and the module lacks.
    pub unexpected: Vec<String>,
    /// `key: module shape vs map shape`.
    pub shapes: Vec<String>,
}

impl ParamMismatch {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.shapes.is_empty() {
            parts.push(format!("mismatched shapes: {}", self.shapes.join(", ")));
        }
        if !self.missing.is_empty() {
            parts.push(format!("missing keys: {}", self.missing.join(", ")));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!("unexpected keys: {}", self.unexpected.join(", ")));
        }
        parts.join("; ")
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.shapes.is_empty()
    }
}

/// The dotted path of the module being visited: at a parameter, its checkpoint key (burn enters a
/// parameter's field name as a module). Keys are the checkpoint format, so two steps of a visit do
/// not appear as burn names them: the [`super::Decoder`] variant replaces the `decoder` field by its
/// key prefix (`amr` or `mamp`), and the MAMP decoder inside the two Table 5 baselines adds no
/// segment.
#[derive(Default)]
pub(crate) struct ParamPath(Vec<Option<String>>);

/// The baselines that hold MAMP's decoder in a field named `mamp`, as visitors see them.
const MAMP_WRAPPERS: [&str; 2] = ["Struct:DecoderMaskingDecoder", "Struct:DownsamplingDecoder"];

impl ParamPath {
    /// Steps into the module `name` of the container `container_type` (burn's visitor arguments).
    pub(crate) fn enter(&mut self, name: &str, container_type: &str) {
        if container_type == DECODER_CONTAINER {
            if let Some(top) = self.0.last_mut() {
                *top = Some(Decoder::key_prefix(name).to_string());
            }
            self.0.push(None);
        } else if name == "mamp" && MAMP_WRAPPERS.contains(&container_type) {
            self.0.push(None);
        } else {
            self.0.push(Some(name.to_string()));
        }
    }

    /// Steps out of the module entered last.
    pub(crate) fn exit(&mut self) {
        self.0.pop();
    }

    /// The key of the current position.
    pub(crate) fn key(&self) -> String {
        self.0.iter().flatten().map(String::as_str).collect::<Vec<_>>().join(".")
    }
}

/// Collects one entry per float parameter, keyed by its path.
struct Collect<T, F> {
    path: ParamPath,
    out: BTreeMap<String, T>,
    read: F,
}

/// What a visit reads from a parameter (a generic closure cannot be generic over the rank `D`).
trait Read<T> {
    fn read<const D: usize>(&self, param: &Param<Tensor<D>>) -> T;
}

struct Values;
impl Read<NamedTensor> for Values {
    fn read<const D: usize>(&self, param: &Param<Tensor<D>>) -> NamedTensor {
        NamedTensor::from_tensor(param.val())
    }
}

/// The parameter itself, flattened (its shape kept), for a read-back after the visit.
struct Flat;
impl Read<(Vec<usize>, Tensor<1>)> for Flat {
    fn read<const D: usize>(&self, param: &Param<Tensor<D>>) -> (Vec<usize>, Tensor<1>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let n = shape.iter().product::<usize>();
        (shape, t.reshape([n]))
    }
}

struct Shapes;
impl Read<Vec<usize>> for Shapes {
    fn read<const D: usize>(&self, param: &Param<Tensor<D>>) -> Vec<usize> {
        param.shape().dims::<D>().to_vec()
    }
}

impl<T, F: Read<T>> ModuleVisitor for Collect<T, F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.insert(self.path.key(), self.read.read(param));
    }
}

fn collect<M: Module, T, F: Read<T>>(module: &M, read: F) -> BTreeMap<String, T> {
    let mut c = Collect { path: ParamPath::default(), out: BTreeMap::new(), read };
    module.visit(&mut c);
    c.out
}

/// Every float parameter of `module` by path.
pub fn named_params<M: Module>(module: &M) -> NamedParams {
    collect(module, Values)
}

/// Every float parameter of `module` by path, read back from the device without blocking (what
/// the browser awaits; natively the same map as [`named_params`]).
pub async fn named_params_async<M: Module>(module: &M) -> Result<NamedParams, DeviceError> {
    read_back_async(collect(module, Flat)).await
}

/// Reads flattened tensors (keyed, each with its shape) back in one transfer: they are joined on
/// the device and split again here, so a model costs one device round trip, not one per tensor.
pub(crate) async fn read_back_async(
    tensors: BTreeMap<String, (Vec<usize>, Tensor<1>)>,
) -> Result<NamedParams, DeviceError> {
    if tensors.is_empty() {
        return Ok(NamedParams::new());
    }
    let joined = Tensor::cat(tensors.values().map(|(_, t)| t.clone().detach()).collect(), 0);
    let all = NamedTensor::from_tensor_async(joined).await?.values;
    let mut start = 0;
    let mut out = NamedParams::new();
    for (key, (shape, _)) in tensors {
        let n = shape.iter().product::<usize>();
        let values = all
            .get(start..start + n)
            .ok_or_else(|| DeviceError("the device returned fewer values than it holds".into()))?
            .to_vec();
        start += n;
        out.insert(key, NamedTensor { shape, values });
    }
    Ok(out)
}

/// The shapes of every float parameter of `module` by path (no values are read back).
pub fn param_shapes<M: Module>(module: &M) -> BTreeMap<String, Vec<usize>> {
    collect(module, Shapes)
}

/// Checks that `params` has exactly the keys and shapes of `module`.
pub fn check_params<M: Module>(module: &M, params: &NamedParams) -> Result<(), ParamMismatch> {
    let shapes = param_shapes(module);
    let mut m = ParamMismatch::default();
    for (k, s) in &shapes {
        match params.get(k) {
            None => m.missing.push(k.clone()),
            Some(t) if &t.shape != s || t.values.len() != s.iter().product::<usize>() => {
                m.shapes.push(format!("{k}: model {s:?} vs file {:?}", t.shape));
            }
            Some(_) => {}
        }
    }
    m.unexpected = params.keys().filter(|k| !shapes.contains_key(*k)).cloned().collect();
    if m.is_empty() { Ok(()) } else { Err(m) }
}

struct Assign<'a> {
    path: ParamPath,
    params: &'a NamedParams,
}

impl ModuleMapper for Assign<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(t) = self.params.get(&self.path.key()) else { return param };
        param.map(|old| {
            let require_grad = old.is_require_grad();
            match t.to_tensor::<D>(&old.device()) {
                Some(new) if require_grad => new.require_grad(),
                Some(new) => new,
                None => old,
            }
        })
    }
}

/// Writes `params` into `module` (parameter ids are kept), after checking that keys and shapes fit
/// exactly; on a mismatch the module is not touched and every bad key is listed.
pub fn load_params<M: Module>(module: M, params: &NamedParams) -> Result<M, (M, ParamMismatch)> {
    if let Err(e) = check_params(&module, params) {
        return Err((module, e));
    }
    Ok(module.map(&mut Assign { path: ParamPath::default(), params }))
}
