//! Several `grantline serve` processes on one PostgreSQL database behind a round-robin load
//! balancer (no sticky sessions), as a team runs Grantline on more than one machine.
//!
//! The database comes from `GRANTLINE_TEST_POSTGRES_URL` (`scripts/test.sh` starts a private
//! PostgreSQL and sets it); each cluster gets a fresh database of its own. Without it these tests
//! say so and pass, unless `GRANTLINE_REQUIRE_POSTGRES=1` (set by `scripts/test.sh`) makes a
//! missing database a failure.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

use super::{Broker, BrokerOptions};

/// The PostgreSQL server tests may create databases on, if there is one.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("GRANTLINE_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(url),
        None if std::env::var("GRANTLINE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("{test}: GRANTLINE_TEST_POSTGRES_URL is not set but GRANTLINE_REQUIRE_POSTGRES=1")
        }
        None => {
            eprintln!("SKIPPED {test}: no PostgreSQL (set GRANTLINE_TEST_POSTGRES_URL, or run scripts/test.sh)");
            None
        }
    }
}

/// A new, empty database on the server at `server_url`; returns its URL.
pub fn fresh_database(server_url: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("grantline_t{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let out = std::process::Command::new("psql")
        .args([server_url, "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql (postgresql-client) is installed");
    assert!(out.status.success(), "CREATE DATABASE {name}: {}", String::from_utf8_lossy(&out.stderr));
    let mut url = url::Url::parse(server_url).expect("a postgres:// URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A round-robin TCP load balancer on 127.0.0.1: each new connection goes to the next broker;
/// a broker that refuses the connection (killed) is skipped.
pub struct Balancer {
    pub url: String,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    /// Listens on `port` (0: a free one).
    pub async fn start(port: u16) -> Balancer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let backends: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        let shared = backends.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                let (backends, next) = (shared.clone(), next.clone());
                tokio::spawn(async move {
                    let list = backends.lock().unwrap().clone();
                    for _ in 0..list.len() {
                        let to = list[next.fetch_add(1, Ordering::Relaxed) % list.len()];
                        if let Ok(mut outbound) = TcpStream::connect(to).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
        Balancer { url, backends, task }
    }

    fn add(&self, broker: &Broker) {
        let addr = broker.base_url.trim_start_matches("http://").parse().unwrap();
        self.backends.lock().unwrap().push(addr);
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `n` brokers on one fresh PostgreSQL database, all reachable at `balancer.url` (their public URL).
pub struct Cluster {
    pub nodes: Vec<Broker>,
    pub balancer: Balancer,
    pub database_url: String,
    pub api_key: String,
}

impl Cluster {
    /// Starts `n` brokers with `opts` on a fresh database of `server_url`. The first one creates
    /// the project (and prints its key); the others join it, started together.
    pub async fn start(server_url: &str, n: usize, opts: BrokerOptions) -> Cluster {
        Self::start_at(server_url, n, opts, 0).await
    }

    /// [`Cluster::start`] with the load balancer on `port` (to register its callback URL first).
    pub async fn start_at(server_url: &str, n: usize, opts: BrokerOptions, port: u16) -> Cluster {
        let database_url = fresh_database(server_url);
        let balancer = Balancer::start(port).await;
        let opts = BrokerOptions { database_url: Some(database_url.clone()), public_url: Some(balancer.url.clone()), ..opts };
        let first = tokio::task::spawn_blocking({
            let opts = opts.clone();
            move || Broker::start(opts)
        })
        .await
        .unwrap();
        let api_key = first.api_key.clone();
        let opts = BrokerOptions { encryption_key: Some(first.key.clone()), ..opts };
        let joining: Vec<_> = (1..n)
            .map(|_| {
                let (opts, key) = (opts.clone(), api_key.clone());
                tokio::task::spawn_blocking(move || Broker::join(opts, &key))
            })
            .collect();
        let mut nodes = vec![first];
        for j in joining {
            nodes.push(j.await.unwrap());
        }
        for node in &nodes {
            balancer.add(node);
        }
        Cluster { nodes, balancer, database_url, api_key }
    }

    /// `url` (built on the public URL) pointed at node `i` instead.
    pub fn via(&self, i: usize, url: &str) -> String {
        url.replacen(&self.balancer.url, &self.nodes[i].base_url, 1)
    }
}
