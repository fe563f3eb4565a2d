//! A device read-back awaited from a frame loop. The desktop blocks on it (its readbacks finish in
//! microseconds on the CPU and milliseconds on a GPU); the browser must not block, so it keeps the
//! future, polls it once per frame and is woken (a repaint) when the device answers.

use std::future::Future;
use std::pin::Pin;

/// A boxed future the App keeps between frames.
pub struct FrameFuture<T> {
    future: Pin<Box<dyn Future<Output = T>>>,
}

impl<T> FrameFuture<T> {
    /// Wraps `future` (it owns everything it needs).
    pub fn new(future: impl Future<Output = T> + 'static) -> Self {
        Self { future: Box::pin(future) }
    }

    /// The output once ready. Natively this waits for it; in the browser it polls once and asks
    /// `ctx` for a repaint when the future can make progress.
    pub fn poll(&mut self, ctx: &egui::Context) -> Option<T> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = ctx;
            Some(pollster::block_on(self.future.as_mut()))
        }
        #[cfg(target_arch = "wasm32")]
        {
            let waker = std::task::Waker::from(std::sync::Arc::new(Repaint(ctx.clone())));
            let mut cx = std::task::Context::from_waker(&waker);
            match self.future.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            }
        }
    }
}

/// Wakes the frame loop by asking for a repaint.
#[cfg(target_arch = "wasm32")]
struct Repaint(egui::Context);

#[cfg(target_arch = "wasm32")]
impl std::task::Wake for Repaint {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.request_repaint();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_gives_its_value_once_ready_and_natively_is_waited_for() {
        let ctx = egui::Context::default();
        let mut ready = FrameFuture::new(async { 7 });
        assert_eq!(ready.poll(&ctx), Some(7));
        // A future that needs a second poll: natively the frame waits for it.
        let mut twice = FrameFuture::new(async {
            let mut yielded = false;
            std::future::poll_fn(move |cx| {
                if yielded {
                    std::task::Poll::Ready(3)
                } else {
                    yielded = true;
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            })
            .await
        });
        assert_eq!(twice.poll(&ctx), Some(3));
    }
}
