//! Anti-replay window over CTR, per KID (RFC 9605 §7.4 and §9.3: a receiver MAY keep one).
//!
//! The sliding window of RFC 3711 §3.3.2 applied to SFrame counters: the highest counter
//! accepted so far and a bitmap of the `width` counters below it. A counter above the highest
//! is new; one inside the window is new unless its bit is set; one below the window is refused
//! as too old. The window only moves when a frame has authenticated.

use crate::decryptor::DecryptError;
use crate::secret::KeyError;

/// A sliding anti-replay window over the counters of one KID.
///
/// The bitmap is a ring indexed by `CTR mod 128` (the layout of RFC 6479): accepting the next
/// counter clears one bit instead of shifting the whole window.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReplayWindow {
    /// 0 when disabled, else 1..=128.
    width: u8,
    /// The highest counter accepted so far; 0 before the first, when `seen` is all zero (once
    /// a counter has been accepted, the bit of `top` is set). A plain number, not an `Option`:
    /// a window that has accepted nothing behaves as one whose top is 0 and that has seen
    /// nothing, so the checks need no second case (issue #15).
    top: u64,
    /// Bit `ctr mod 128` set: `ctr` was accepted (meaningful for the 128 counters up to `top`).
    seen: [u64; 2],
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
                top: 0,
                seen: [0; 2],
            }),
            _ => Err(KeyError::ReplayWindowWidth),
        }
    }

    /// No replay protection: every authentic frame is accepted, however often it arrives.
    #[must_use]
    pub const fn disabled() -> Self {
        Self {
            width: 0,
            top: 0,
            seen: [0; 2],
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
        (self.seen != [0; 2]).then_some(self.top)
    }

    /// The word and bit of `ctr` in the ring.
    fn slot(&mut self, ctr: u64) -> (&mut u64, u64) {
        let [low, high] = &mut self.seen;
        let word = if ctr & 64 == 0 { low } else { high };
        (word, 1 << (ctr & 63))
    }

    /// Whether `ctr` would be accepted. Changes nothing.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Replay`] when `ctr` was accepted before or is older than the window.
    pub fn check(&self, ctr: u64) -> Result<(), DecryptError> {
        // Above the top is new (the in-order case first). Before the first counter, only 0 is
        // not above it, and the window has seen nothing.
        let top = self.top;
        if ctr > top || self.width == 0 {
            return Ok(());
        }
        if top - ctr >= u64::from(self.width) {
            return Err(DecryptError::Replay);
        }
        let [low, high] = self.seen;
        let word = if ctr & 64 == 0 { low } else { high };
        if word & (1 << (ctr & 63)) != 0 {
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
        let top = self.top;
        if ctr > top {
            let ahead = ctr - top;
            // In order (the common case, tested first): no counter skipped, nothing to clear;
            // the new counter's bit held `ctr - 128`'s, which leaves the window, and is set
            // below.
            if ahead > 1 {
                if ahead >= 128 {
                    self.seen = [0; 2];
                } else {
                    // The counters between the old top and `ctr` enter the window unseen.
                    for skipped in top + 1..ctr {
                        let (word, bit) = self.slot(skipped);
                        *word &= !bit;
                    }
                }
            }
            self.top = ctr;
        }
        let (word, bit) = self.slot(ctr);
        *word |= bit;
    }
}

impl core::fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("width", &self.width)
            .field("highest", &self.highest())
            .finish_non_exhaustive()
    }
}

impl Default for ReplayWindow {
    /// 128 counters wide.
    fn default() -> Self {
        Self {
            width: 128,
            top: 0,
            seen: [0; 2],
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
    fn counter_zero_and_the_first_counter() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.highest(), None);
        assert_eq!(w.check(0), Ok(()));
        w.accept(0);
        assert_eq!(w.highest(), Some(0));
        assert_eq!(w.check(0), Err(DecryptError::Replay));
        w.accept(1);
        assert_eq!(
            (w.highest(), w.check(0), w.check(1)),
            (
                Some(1),
                Err(DecryptError::Replay),
                Err(DecryptError::Replay)
            )
        );
        let mut w = ReplayWindow::new(4).unwrap();
        w.accept(5);
        assert_eq!(w.highest(), Some(5));
        assert_eq!(
            w.check(0),
            Err(DecryptError::Replay),
            "older than the window"
        );
        assert_eq!(
            w.check(1),
            Err(DecryptError::Replay),
            "older than the window"
        );
        assert_eq!(w.check(2), Ok(()));
        assert_eq!(w.check(5), Err(DecryptError::Replay));
        let mut d = ReplayWindow::disabled();
        d.accept(0);
        d.accept(9);
        assert_eq!(
            (d.highest(), d.check(0), d.check(9)),
            (None, Ok(()), Ok(()))
        );
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
