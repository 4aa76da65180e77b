//! The Rust client's run of the conformance scenario (tests/conformance/README.md):
//!
//!     openenv-conformance --address 127.0.0.1:PORT --scenario scenario.json --golden golden/
//!
//! Runs the 13 checks in order through the openenv-grpc crate (its Client,
//! Session, Error and tensor helpers), prints `PASS name` or `FAIL name: why`
//! for each, then `N passed, M failed`, and exits 0 only when none failed.

mod checks;
mod expect;
mod golden;

use std::path::PathBuf;
use std::process::ExitCode;

use checks::Checks;

const USAGE: &str = "usage: openenv-conformance --address HOST:PORT --scenario FILE --golden DIR";

struct Args {
    address: String,
    scenario: PathBuf,
    golden: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let (mut address, mut scenario, mut golden) = (None, None, None);
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let value = argv
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--address" => address = Some(value),
            "--scenario" => scenario = Some(PathBuf::from(value)),
            "--golden" => golden = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    match (address, scenario, golden) {
        (Some(address), Some(scenario), Some(golden)) => Ok(Args {
            address,
            scenario,
            golden,
        }),
        _ => Err(USAGE.into()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let scenario = match std::fs::read_to_string(&args.scenario)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("cannot read the scenario {}: {e}", args.scenario.display());
            return ExitCode::from(2);
        }
    };

    let mut checks = Checks::new(&args.address, scenario).await;
    let (mut passed, mut failed) = (0, 0);
    for name in checks::NAMES {
        let outcome = match name {
            "golden" => golden::check(&args.golden),
            _ => checks.run(name).await,
        };
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("PASS {name}");
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {}", why.replace('\n', " "));
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
