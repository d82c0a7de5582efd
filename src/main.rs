fn main() -> std::process::ExitCode {
    fhircheck::app::main()
}
