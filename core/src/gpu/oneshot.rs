//! A one-value channel whose receiver is a future: wgpu's map callbacks resolve it, natively after
//! `Device::poll`, in the browser from the event loop.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>)>>;

/// The sending half.
pub struct Sender<T>(Slot<T>);
/// The receiving half: a future of the value.
pub struct Receiver<T>(Slot<T>);

/// A new channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new((None, None)));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    /// Sends the value and wakes the receiver.
    pub fn send(self, value: T) {
        if let Ok(mut g) = self.0.lock() {
            g.0 = Some(value);
            if let Some(w) = g.1.take() {
                w.wake();
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Ok(mut g) = self.0.lock() else { return Poll::Ready(None) };
        match g.0.take() {
            Some(v) => Poll::Ready(Some(v)),
            None => {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
