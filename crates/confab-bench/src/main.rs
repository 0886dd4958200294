//! `confab-bench`: measures confab against SPEC §6 using only its public HTTP and WebSocket
//! protocol. It starts the server itself (a fresh data directory, limits lifted) so that it
//! can read the server's memory and CPU from `/proc`.

mod broadcast;
mod client;
mod faults;
mod floor;
mod report;
mod scenarios;
mod search;
mod server;
mod storm;
mod uploads;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "confab-bench", about = "Load generator for confab (SPEC §6)")]
struct Cli {
    /// The confab binary to start.
    #[arg(long, default_value = "target/release/confab", global = true)]
    server: PathBuf,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Run a chat service and this many gateways (meeting on `--redis`) instead of one
    /// process.
    #[arg(long, default_value_t = 0, global = true)]
    gateways: usize,
    /// A PostgreSQL server URL (e.g. postgres://postgres@127.0.0.1:5432/postgres): the store
    /// is a scratch database on it instead of SQLite.
    #[arg(long, global = true)]
    postgres: Option<String>,
    /// Redis URL for the bus and presence (needed with --gateways).
    #[arg(long, global = true)]
    redis: Option<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// No confab: what this machine allows for plain loopback TCP fan-out writes and
    /// request/reply round trips, the ceiling under the fanout and throughput scenarios, and
    /// (`--disk-mib`) for writing and fsyncing files, the ceiling under uploads.
    Floor(floor::Params),
    /// Two chat services and two gateways on a private PostgreSQL and Redis, one fault every
    /// few seconds (each process killed or stopped and restarted, PostgreSQL crashed, Redis
    /// killed): time to every client's next ack, reconnect times, nothing lost or doubled.
    Faults(faults::Params),
    /// The floor scenario's reading process (started by it).
    #[command(hide = true)]
    FloorReader {
        #[arg(long)]
        connect: std::net::SocketAddr,
        #[arg(long)]
        sockets: usize,
        #[arg(long)]
        bytes: usize,
    },
    #[command(flatten)]
    Server(ServerScenario),
}

/// The scenarios run against a confab deployment the bench starts.
#[derive(Subcommand)]
enum ServerScenario {
    /// N idle WebSockets: server memory per connection, connect rate.
    Idle {
        #[arg(long, default_value_t = 15_000)]
        connections: usize,
    },
    /// One channel with M members online, K messages: time to last delivery, deliveries/s.
    Fanout {
        #[arg(long, default_value_t = 10_000)]
        members: usize,
        #[arg(long, default_value_t = 20)]
        messages: usize,
    },
    /// A fixed send rate over several channels: send→ack and send→delivery percentiles.
    Latency {
        #[arg(long, default_value_t = 1_000)]
        rate: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 10)]
        channels: usize,
        #[arg(long, default_value_t = 16)]
        senders: usize,
    },
    /// Sockets sending as fast as acks come back: durable sends per second.
    Throughput {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        senders: usize,
        /// Unacknowledged sends per socket.
        #[arg(long, default_value_t = 16)]
        window: usize,
    },
    /// N clients each missing K changes reconnect at once and catch up.
    Catchup {
        #[arg(long, default_value_t = 100)]
        clients: usize,
        #[arg(long, default_value_t = 1_000)]
        missed: usize,
    },
    /// N clients in C channels each lose their gateway (kill -9) while a writer sends, then
    /// reconnect and catch up (`POST /sync` or per-channel feeds): time to the last one
    /// current, nothing missing or doubled. Needs --gateways 2 --redis.
    Storm(storm::Params),
    /// N uploads of S MiB at once, each `POST /files` then its bytes streamed by `PUT`, then
    /// some one at a time: throughput, per-upload times, the server's peak RSS over its RSS
    /// before (nothing may be held whole), failures, uploads read back intact.
    Uploads(uploads::Params),
    /// N messages written as fast as acks come back (chat-like text from a seeded
    /// generator, with planted words), then `GET /search` by query class one at a time (and
    /// C at once): latency per class, result counts, the index's size on disk.
    Search(search::Params),
    /// M members in one channel, K `@channel` messages: each one's send ack and time until
    /// its notifications are written, and the acks of another member's plain sends meanwhile
    /// (against the same alone first).
    Broadcast(broadcast::Params),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let scenario = match cli.scenario {
        Scenario::Floor(params) => return print(floor::floor(params).await?, cli.json),
        Scenario::Faults(params) => {
            return print(faults::faults(&cli.server, params).await?, cli.json);
        }
        Scenario::FloorReader {
            connect,
            sockets,
            bytes,
        } => return floor::reader(connect, sockets, bytes).await,
        Scenario::Server(scenario) => scenario,
    };
    let extra: Vec<String> = match scenario {
        // Room for a burst of 1,000 events per socket.
        ServerScenario::Catchup { .. } | ServerScenario::Throughput { .. } => {
            vec!["--ws-send-queue".into(), "4096".into()]
        }
        ServerScenario::Storm(_) => storm::server_flags(),
        ServerScenario::Uploads(ref params) => uploads::server_flags(params),
        ServerScenario::Search(_) => search::server_flags(),
        ServerScenario::Broadcast(_) => broadcast::server_flags(),
        _ => Vec::new(),
    };
    let topology = server::Topology {
        gateways: cli.gateways,
        postgres: cli.postgres.clone(),
        redis: cli.redis.clone(),
    };
    if let ServerScenario::Storm(_) = scenario {
        storm::check(&topology)?;
    }
    let mut server = server::Server::start(&cli.server, &extra, topology).await?;
    let result = match scenario {
        ServerScenario::Idle { connections } => scenarios::idle(&server, connections).await,
        ServerScenario::Fanout { members, messages } => {
            scenarios::fanout(&server, members, messages).await
        }
        ServerScenario::Latency {
            rate,
            seconds,
            channels,
            senders,
        } => scenarios::latency(&server, rate, seconds, channels, senders).await,
        ServerScenario::Throughput {
            seconds,
            senders,
            window,
        } => scenarios::throughput(&server, seconds, senders, window).await,
        ServerScenario::Catchup { clients, missed } => {
            scenarios::catchup(&server, clients, missed).await
        }
        ServerScenario::Storm(params) => storm::storm(&mut server, params).await,
        ServerScenario::Uploads(params) => uploads::uploads(&server, params).await,
        ServerScenario::Search(params) => search::search(&server, params).await,
        ServerScenario::Broadcast(params) => broadcast::broadcast(&server, params).await,
    };
    server.stop().await;
    print(result?, cli.json)
}

fn print(report: report::Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", report.json());
    } else {
        report.print();
    }
    Ok(())
}
