//! `confab serve`: one binary, embedded defaults, nothing else to install.

use std::sync::Arc;

use clap::{Parser, Subcommand};
use confab::config::{Config, ServeArgs};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "confab", version, about = "Self-hosted team chat server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Operator commands, on the store `serve` would use (same flags, file and environment).
    Admin {
        #[command(subcommand)]
        command: confab::admin::AdminCommand,
    },
}

fn main() -> anyhow::Result<()> {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match Cli::parse().command {
        Command::Serve(args) => {
            let config = Config::load(&args)?;
            init_logging(&config);
            runtime()?.block_on(serve(config))
        }
        Command::Admin { command } => {
            let config = Config::load(command.args())?;
            init_logging(&config);
            let out = runtime()?.block_on(confab::admin::run(&config, command))?;
            say(out.trim_end());
            Ok(())
        }
    }
}

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_env("CONFAB_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == confab::config::LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("confab_send_ack_seconds".into()),
            &[
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ],
        )?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)?;
    // Tests and scripts read this line to learn the port when listening on port 0; it comes
    // as soon as the server listens, before what it depends on is reached.
    let announce = |addr| say(&format!("confab listening on http://{addr}"));
    // One signal stream for the whole run, made before anything starts: a SIGTERM that
    // arrives at any moment from here on is seen.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let starting =
        confab::server::start_announcing(&config, Arc::new(move || handle.render()), announce);
    let running = tokio::select! {
        running = starting => running?,
        signal = wait_for_signal(&mut term) => {
            signal?;
            tracing::info!("stopped while starting");
            return Ok(());
        }
    };
    // And this one once it serves its whole API (after reaching PostgreSQL, say).
    say("confab ready");
    tracing::info!(addr = %running.local_addr, role = %config.role, "confab started");
    wait_for_signal(&mut term).await?;
    tracing::info!("shutting down");
    running.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

/// A line on stdout for whoever started confab. Nobody may be reading any more (a script that
/// took the address and went): that is no reason to stop.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

async fn wait_for_signal(term: &mut tokio::signal::unix::Signal) -> anyhow::Result<()> {
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r?,
    }
    Ok(())
}
