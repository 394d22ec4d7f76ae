use retry_runtime::retry;

macro_rules! each_preset {
    ($($name:ident = $preset:literal),* $(,)?) => {
        $(
            #[retry(preset = $preset)]
            fn $name() -> Result<(), std::io::Error> {
                Ok(())
            }
        )*
        fn main() {
            $( $name().unwrap(); )*
            // every preset of the runtime's table is accepted by the attribute
            assert_eq!([$($preset),*], retry_runtime::presets::NAMES);
        }
    };
}

each_preset!(
    webhook = "webhook",
    quick = "quick",
    snapshot = "snapshot",
    standard = "standard",
    persistent = "persistent",
    db = "db",
    ai_provider = "ai_provider",
    s3 = "s3",
    api = "api",
    job = "job",
);
