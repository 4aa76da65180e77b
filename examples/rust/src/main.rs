//! A random-policy "trainer" over a remote environment: connect, Describe,
//! then run episodes on one StepStream session and print each one's return
//! and length.
//!
//!     random-policy [--address localhost:50051] [--episodes 3] [--seed N] [--max-steps 100000]
//!                   [--ca-file CA.pem [--cert-file CLIENT.pem --key-file CLIENT.key]] [--token TOKEN]
//!
//! `--ca-file` switches to TLS (the server's `--tls-cert`), `--cert-file` and
//! `--key-file` add a client certificate (its `--tls-client-ca`), and the
//! token (its `--tokens-file`; default: `$OPENENV_GRPC_TOKEN`, so it stays
//! out of `ps`) goes as `authorization: Bearer TOKEN` on every call.
//!
//! Works against whatever environment the server serves, as long as its
//! action space is Discrete, MultiDiscrete, MultiBinary or a Box of any
//! shape: try `openenv-grpc serve gymnasium:CartPole-v1` or
//! `openenv-grpc serve gymnasium:Pendulum-v1`.

mod policy;

use std::process::ExitCode;

use openenv_grpc::Code;
use openenv_grpc::v1::ResetRequest;
use openenv_grpc::{Client, Credentials, Error, Session};

use policy::RandomPolicy;

struct Args {
    address: String,
    episodes: u32,
    seed: Option<u64>,
    max_steps: u64,
    credentials: Credentials,
}

const USAGE: &str = "usage: random-policy [--address HOST:PORT] [--episodes N] [--seed N] \
     [--max-steps N] [--ca-file PATH] [--cert-file PATH] [--key-file PATH] [--token TOKEN]";

/// Where the token comes from when `--token` is not given.
const TOKEN_ENV: &str = "OPENENV_GRPC_TOKEN";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        address: "localhost:50051".into(),
        episodes: 3,
        seed: None,
        max_steps: 100_000,
        credentials: Credentials::new().token(std::env::var(TOKEN_ENV).unwrap_or_default()),
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = argv
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--address" => args.address = value,
            "--episodes" => {
                args.episodes = u32::try_from(number(&value)?).map_err(|e| e.to_string())?
            }
            "--seed" => args.seed = Some(number(&value)?),
            "--max-steps" => args.max_steps = number(&value)?.max(1),
            "--ca-file" => args.credentials = args.credentials.ca_file(value),
            "--cert-file" => args.credentials = args.credentials.cert_file(value),
            "--key-file" => args.credentials = args.credentials.key_file(value),
            "--token" => args.credentials = args.credentials.token(value),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(args)
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
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let client = Client::connect_with(&args.address, &args.credentials)
        .await
        .map_err(|e| format!("{}: {e}", args.address))?;
    let spec = client.describe().await.map_err(|e| {
        // Plaintext against a TLS server dies in the transport, with no reason.
        let transport =
            e.reason().is_empty() && matches!(e.code(), Code::Unknown | Code::Unavailable);
        let hint = if transport && !args.credentials.is_tls() {
            " (does the server speak TLS? then pass --ca-file)"
        } else {
            ""
        };
        format!("{}: {e}{hint}", args.address)
    })?;
    let seed = args.seed.unwrap_or_else(clock_seed);
    println!(
        "{} (protocol {}, {}) at {}, seed {seed}",
        spec.env_name, spec.protocol_version, spec.server_version, args.address
    );
    let mut policy = RandomPolicy::new(&spec.action_space.unwrap_or_default(), seed)?;

    // Seed the env once, at the first reset; later episodes go on from there.
    let (mut session, _) = Session::create(&client, ResetRequest::new_session().with_seed(seed))
        .await
        .map_err(|e| e.to_string())?;
    for episode in 1..=args.episodes {
        if episode > 1 {
            session
                .reset(ResetRequest::default())
                .await
                .map_err(|e| e.to_string())?;
        }
        let (total, length) = play(&mut session, &mut policy, args.max_steps)
            .await
            .map_err(|e| e.to_string())?;
        println!("episode {episode}: return {total:.3}, length {length}");
    }
    session.close().await.map_err(|e| e.to_string())
}

/// One episode, until it terminates, is truncated, or reaches `max_steps`.
async fn play(
    session: &mut Session,
    policy: &mut RandomPolicy,
    max_steps: u64,
) -> Result<(f64, u64), Error> {
    let (mut total, mut length) = (0.0, 0);
    while length < max_steps {
        let step = session.step(policy.sample()?).await?;
        total += step.reward;
        length += 1;
        if step.terminated || step.truncated {
            break;
        }
    }
    Ok((total, length))
}

fn clock_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_nanos() as u64
}
