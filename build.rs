//! Compiles `proto/` with protox (pure Rust), so no system `protoc` is needed.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = [
        "proto/jobbridge/v1/common.proto",
        "proto/jobbridge/v1/workers.proto",
        "proto/jobbridge/v1/openings.proto",
        "proto/jobbridge/v1/matching.proto",
        "proto/jobbridge/v1/batch.proto",
        "proto/jobbridge/v1/placements.proto",
        "proto/jobbridge/v1/reports.proto",
        "proto/jobbridge/v1/admin.proto",
    ];
    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files)?;
    let fds = compiler.file_descriptor_set();

    // Reflection serves this set; `compile_fds` does not write it itself.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("jobbridge_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
