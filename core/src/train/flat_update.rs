//! The flattened parameter update every optimiser here is built on: each parameter and its gradient
//! as 1-D tensors, by checkpoint key.

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::model::ParamPath;

/// Walks a module's float parameters with their dotted paths and replaces every one that has a
/// gradient by `f(path, rank, flat parameter, flat gradient)` (the update rule of an optimiser), keeping
/// the parameter's id, its trainability and its gradient-checkpointing strategy.
pub(crate) struct FlatUpdate<F> {
    grads: GradientsParams,
    path: ParamPath,
    f: F,
}

impl<F: FnMut(&str, usize, Tensor<1>, Tensor<1>) -> Tensor<1>> FlatUpdate<F> {
    /// Applies `f` to every parameter of `module` that has a gradient in `grads`.
    pub(crate) fn apply<M: Module>(module: M, grads: GradientsParams, f: F) -> M {
        module.map(&mut Self { grads, path: ParamPath::default(), f })
    }
}

impl<F: FnMut(&str, usize, Tensor<1>, Tensor<1>) -> Tensor<1>> ModuleMapper for FlatUpdate<F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let key = self.path.key();
        let require_grad = tensor.is_require_grad();
        let strategy = tensor.gradient_checkpointing_strategy();
        let p = tensor.inner();
        let shape = p.dims();
        let n: usize = shape.iter().product();
        let g = grad.to_device(&p.device()).reshape([n]);
        let p = (self.f)(&key, D, p.reshape([n]), g);
        let mut p = Tensor::<D>::from_inner(p.reshape(shape));
        if let Some(s) = strategy {
            p = p.with_gradient_checkpointing_strategy(s);
        }
        if require_grad {
            p = p.require_grad();
        }
        Param::from_mapped_value(id, p, mapper)
    }
}
