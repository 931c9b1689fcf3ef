//! Generates the Sparkplug B payload types from the upstream protobuf definition, with protox
//! (a pure-Rust protobuf compiler) so that building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/sparkplug_b.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
