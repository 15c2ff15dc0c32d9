//! Interoperability tests of `secure-frame` against real protocol stacks; not published. The
//! tests live in `tests/`.

pub mod cisco;
