use retry_runtime::retry;

// A policy file reads `preset = "grpc"` (tonic::GRPC, feature `tonic`);
// the attribute's presets are its ten, and gRPC's policy is given by
// `policy = retry_runtime::tonic::GRPC`: the message says so.
#[retry(preset = "grpc")]
async fn get_clip() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
