// Unions are not supported.
#[derive(retry_runtime::Classify)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
