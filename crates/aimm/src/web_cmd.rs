//! `aimm web` (the dashboard and HTTP API) and `aimm users` (who may use them).

use crate::keys_cmd::DEFAULT_KEY;
use crate::output::{print_json, table};
use crate::part::open_store;
use aimm_ledger::read_signer;
use aimm_model::Role;
use aimm_server::{AppState, ServerOptions};
use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Serve the web dashboard and the HTTP API with roles on 127.0.0.1.
///
/// Pages: the cell overview (machine states, OEE per ISO 22400, the loops acting) at /, each
/// machine's live spindle load against its setpoint with the override the feed loop commands,
/// its tools (wear, interval, offsets written, remaining life, planned change), NC program
/// versions with diffs, the learning loop's proposals (engineers approve or reject them), the
/// schedule against the tariff and the power cap, the ledger with the lineage of any record,
/// and the assessment. The API is described at /api/openapi.json.
///
/// Everyone logs in with a token made by `aimm users add` (roles: assessor, read-only;
/// operator; engineer; admin). Every write through the API is a ledger record naming the user
/// and their role. It listens on loopback only unless --bind says otherwise; for TLS put a
/// reverse proxy in front (README: "Web dashboard") and pass --secure-cookie.
///
/// Examples:
///   aimm users add j.doe --role engineer --db aimm.db
///   aimm web --db aimm.db --port 8080
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct WebArgs {
    /// The store: a SQLite file or a PostgreSQL URL.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    pub db: String,
    /// TCP port (0: any free port, printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on. Anything but loopback exposes the API to the network: put TLS in
    /// front of it.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The ledger's signing key: writes through the API are followed by a signed checkpoint.
    /// Without it (or when the file is missing) they wait for `aimm ledger checkpoint`.
    #[arg(long, default_value = DEFAULT_KEY)]
    pub key: PathBuf,
    /// Mark the session cookie Secure (behind a TLS reverse proxy).
    #[arg(long)]
    pub secure_cookie: bool,
}

/// Runs `aimm web` until Ctrl-C.
pub fn run(args: WebArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (addr, handle) = start(&args).await?;
        println!("aimm web: http://{addr}/ (API: http://{addr}/api/openapi.json); Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
        handle.abort();
        Ok(())
    })
}

/// Starts the server for `args` in the current runtime; returns where it listens and its task.
pub async fn start(args: &WebArgs) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let mut options = ServerOptions::new(&args.db);
    options.secure_cookie = args.secure_cookie;
    if args.key.exists() {
        let signer = read_signer(&args.key)
            .with_context(|| format!("signing key {}", args.key.display()))?;
        options.signer = Some(Arc::new(signer));
    }
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the API beyond this machine; put TLS in front of it",
            args.bind
        );
    }
    let state = AppState::open(options).with_context(|| format!("store {}", args.db))?;
    let listener = tokio::net::TcpListener::bind((args.bind, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    tokio::spawn(state.clone().follow());
    let handle = tokio::spawn(async move {
        if let Err(e) = aimm_server::serve(listener, state, std::future::pending()).await {
            tracing::error!(error = %e, "web server stopped");
        }
    });
    Ok((addr, handle))
}

/// One user per role for `aimm demo --web`, `demo-<role>`, with fresh tokens (an earlier demo's
/// users are revoked first): (role, token).
pub fn demo_users(db: &str) -> Result<Vec<(Role, String)>> {
    let mut store = open_store(db)?;
    let mut out = Vec::new();
    for role in aimm_model::ROLES {
        let name = format!("demo-{role}");
        if store
            .users()?
            .iter()
            .any(|u| u.name == name && u.revoked_ns.is_none())
        {
            aimm_server::users::revoke_user(store.as_mut(), &name, ("aimm demo", "admin"))?;
        }
        let new = aimm_server::users::add_user(
            store.as_mut(),
            &name,
            role,
            None,
            ("aimm demo", "admin"),
        )?;
        out.push((role, new.token));
    }
    Ok(out)
}

/// Users of the web dashboard and the HTTP API.
#[derive(clap::Subcommand)]
pub enum UsersCommand {
    /// Add a user and print their token (once: only its SHA-256 is stored).
    ///
    /// Roles: assessor (reads everything, runs assessments, never writes), operator (reads,
    /// pauses and resumes loops), engineer (an operator's rights, and changes loop parameters
    /// and modes, approves or rejects proposals), admin (manages users).
    ///
    /// Examples:
    ///   aimm users add j.doe --role engineer
    ///   aimm users add audit --role assessor --valid-days 30 --json
    #[command(verbatim_doc_comment)]
    Add(AddArgs),
    /// List users (never their tokens).
    Ls(LsArgs),
    /// Revoke a user: their token stops working at once.
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The user's name, as the ledger records their acts.
    name: String,
    /// assessor, operator, engineer or admin.
    #[arg(long)]
    role: Role,
    /// Days the token works (default: until revoked).
    #[arg(long)]
    valid_days: Option<f64>,
    /// The store.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct LsArgs {
    /// The store.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    /// The user's name.
    name: String,
    /// The store.
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The local account that runs the command, as the ledger names it.
fn local_actor() -> String {
    std::env::var("USER").unwrap_or_else(|_| "local".into())
}

pub fn users(cmd: UsersCommand) -> Result<()> {
    let by = local_actor();
    let by = (by.as_str(), "admin");
    match cmd {
        UsersCommand::Add(a) => {
            let mut store = open_store(&a.db)?;
            let new = aimm_server::users::add_user(
                store.as_mut(),
                &a.name,
                a.role,
                a.valid_days.map(|d| d * 86_400.0),
                by,
            )?;
            if a.json {
                return print_json(&new);
            }
            println!(
                "user {} ({}) added. Token (shown once, keep it secret):",
                a.name, a.role
            );
            println!("{}", new.token);
            Ok(())
        }
        UsersCommand::Ls(a) => {
            let users = open_store(&a.db)?.users()?;
            if a.json {
                return print_json(&users);
            }
            let mut t = table(&["user", "role", "added", "expires", "revoked"]);
            for u in &users {
                t.add_row(vec![
                    u.name.clone(),
                    u.role.to_string(),
                    crate::output::utc(u.created_ns),
                    u.expires_ns
                        .map(crate::output::utc)
                        .unwrap_or("never".into()),
                    u.revoked_ns.map(crate::output::utc).unwrap_or_default(),
                ]);
            }
            println!("{t}");
            Ok(())
        }
        UsersCommand::Revoke(a) => {
            let mut store = open_store(&a.db)?;
            aimm_server::users::revoke_user(store.as_mut(), &a.name, by)?;
            if a.json {
                return print_json(&serde_json::json!({ "revoked": a.name }));
            }
            println!("user {} revoked", a.name);
            Ok(())
        }
    }
}
