//! Builds the cisco/sframe test peer (C++17, OpenSSL 3) and our C ABI shim over it
//! (`cshim/`), for `tests/cisco.rs`. The peer's source is not part of this repository: it is
//! read from `../shared/peers/cisco-sframe` beside the repository root, or from
//! `$SFRAME_PEERS_DIR/cisco-sframe` (see `src/manual/interop.md`).
#![expect(
    clippy::expect_used,
    reason = "a build script reports a broken environment by panicking"
)]

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=cshim");
    println!("cargo:rerun-if-env-changed=SFRAME_PEERS_DIR");

    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let peers = env::var_os("SFRAME_PEERS_DIR").map_or_else(
        // interop/ -> repository root -> its parent, where shared/ sits.
        || manifest.join("..").join("..").join("shared").join("peers"),
        PathBuf::from,
    );
    let cisco = peers.join("cisco-sframe");
    assert!(
        cisco.join("src").join("sframe.cpp").is_file(),
        "cisco/sframe source not found at {}: set SFRAME_PEERS_DIR to the directory that holds \
         cisco-sframe/ (../shared/peers beside the repository by default)",
        cisco.display()
    );
    println!("cargo:rerun-if-changed={}", cisco.join("src").display());
    println!("cargo:rerun-if-changed={}", cisco.join("include").display());

    // What cisco's CMake makes of cmake/namespace.h.in.
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let generated = out.join("cisco-include");
    fs::create_dir_all(&generated).expect("OUT_DIR is writable");
    fs::write(
        generated.join("namespace.h"),
        "#pragma once\n#define SFRAME_NAMESPACE sframe\n",
    )
    .expect("OUT_DIR is writable");

    let src = cisco.join("src");
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .define("OPENSSL_3", None)
        .include(cisco.join("include"))
        .include(&src)
        .include(&generated)
        // Third-party code, built as it is: its warnings are not ours to fix.
        .warnings(false)
        .files(
            [
                "header.cpp",
                "sframe.cpp",
                "result.cpp",
                "crypto.cpp",
                "crypto_openssl3.cpp",
            ]
            .map(|f| src.join(f)),
        )
        .file(manifest.join("cshim").join("cisco_shim.cpp"))
        .compile("cisco_sframe");
    println!("cargo:rustc-link-lib=ssl");
    println!("cargo:rustc-link-lib=crypto");
}
