//! Waiting for a future inside a frame: the desktop blocks on it; the browser polls it once, which is
//! enough for burn's CPU backend (its readbacks are ready at once) and never blocks the page.

use std::future::Future;

/// The future's output, or an error when it is not ready and cannot be waited for here.
pub fn block_on<T>(future: impl Future<Output = T>) -> Result<T, String> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        Ok(pollster::block_on(future))
    }
    #[cfg(target_arch = "wasm32")]
    {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => Ok(v),
            std::task::Poll::Pending => {
                Err("the device did not answer at once; this view needs the CPU backend here".into())
            }
        }
    }
}
