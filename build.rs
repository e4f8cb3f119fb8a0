//! Generates the gRPC client and server for our subset of LND's protos (`proto/`). The protoc
//! binary comes from `protoc-bin-vendored` and is handed to prost-build directly, so nothing is
//! downloaded and no environment variable has to be set at build time.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    println!("cargo:rerun-if-changed=proto");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_with_config(
            config,
            &[
                "proto/lightning.proto",
                "proto/router.proto",
                "proto/invoices.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
