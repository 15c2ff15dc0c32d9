//! Anti-replay window over CTR, per KID (RFC 9605 §7.4 and §9.3: a receiver MAY keep one).
//!
//! The sliding window of RFC 3711 §3.3.2 applied to SFrame counters: the highest counter
//! accepted so far and a bitmap of the `width` counters below it. A counter above the highest
//! is new; one inside the window is new unless its bit is set; one below the window is refused
//! as too old. The window only moves when a frame has authenticated.

use crate::error::{DecryptError, KeyError};

/// A sliding anti-replay window over the counters of one KID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    /// 0 when disabled, else 1..=128.
    width: u8,
    /// The highest counter accepted so far, if any.
    top: Option<u64>,
    /// Bit `i` set: counter `top - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// The widest window: 128 counters.
    pub const MAX_WIDTH: u32 = 128;

    /// A window accepting each counter once, and reordering up to `width - 1` counters back
    /// from the highest accepted one.
    ///
    /// # Errors
    ///
    /// [`KeyError::ReplayWindowWidth`] unless `width` is 1 to [`Self::MAX_WIDTH`].
    pub fn new(width: u32) -> Result<Self, KeyError> {
        match u8::try_from(width) {
            Ok(w) if (1..=128).contains(&w) => Ok(Self {
                width: w,
                top: None,
                seen: 0,
            }),
            _ => Err(KeyError::ReplayWindowWidth),
        }
    }

    /// No replay protection: every authentic frame is accepted, however often it arrives.
    #[must_use]
    pub const fn disabled() -> Self {
        Self {
            width: 0,
            top: None,
            seen: 0,
        }
    }

    /// The width in counters; 0 when disabled.
    #[must_use]
    pub fn width(&self) -> u32 {
        u32::from(self.width)
    }

    /// The highest counter accepted so far.
    #[must_use]
    pub fn highest(&self) -> Option<u64> {
        self.top
    }

    /// Whether `ctr` would be accepted. Changes nothing.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Replay`] when `ctr` was accepted before or is older than the window.
    pub fn check(&self, ctr: u64) -> Result<(), DecryptError> {
        let Some(top) = self.top else { return Ok(()) };
        if self.width == 0 || ctr > top {
            return Ok(());
        }
        let age = top - ctr;
        if age >= u64::from(self.width) {
            return Err(DecryptError::Replay);
        }
        if self.seen & (1u128 << age) != 0 {
            return Err(DecryptError::Replay);
        }
        Ok(())
    }

    /// Records `ctr` as accepted. Call only after the frame authenticated and
    /// [`check`](Self::check) passed.
    pub fn accept(&mut self, ctr: u64) {
        if self.width == 0 {
            return;
        }
        match self.top {
            Some(top) if ctr <= top => {
                let age = top - ctr;
                if age < 128 {
                    self.seen |= 1u128 << age;
                }
            }
            Some(top) => {
                let shift = ctr - top;
                self.seen = if shift >= 128 { 0 } else { self.seen << shift };
                self.seen |= 1;
                self.top = Some(ctr);
            }
            None => {
                self.seen = 1;
                self.top = Some(ctr);
            }
        }
        self.seen &= self.mask();
    }

    fn mask(&self) -> u128 {
        if self.width >= 128 {
            u128::MAX
        } else {
            (1u128 << self.width) - 1
        }
    }
}

impl Default for ReplayWindow {
    /// 128 counters wide.
    fn default() -> Self {
        Self {
            width: 128,
            top: None,
            seen: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_rules() {
        let mut w = ReplayWindow::new(4).unwrap();
        for ctr in [10, 8, 9] {
            w.check(ctr).unwrap();
            w.accept(ctr);
        }
        assert_eq!(w.check(10), Err(DecryptError::Replay));
        assert_eq!(w.check(8), Err(DecryptError::Replay));
        assert_eq!(w.check(7), Ok(()));
        assert_eq!(
            w.check(6),
            Err(DecryptError::Replay),
            "older than the window"
        );
        w.accept(200);
        assert_eq!(w.check(10), Err(DecryptError::Replay));
        assert_eq!(w.check(199), Ok(()));
        assert_eq!(w.check(u64::MAX), Ok(()));
    }

    #[test]
    fn disabled_accepts_everything() {
        let mut w = ReplayWindow::disabled();
        w.accept(5);
        assert_eq!(w.check(5), Ok(()));
        assert!(ReplayWindow::new(0).is_err());
        assert!(ReplayWindow::new(129).is_err());
    }
}
