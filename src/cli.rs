//! The `confab` command line: serve (default), migrate, token, user create, tenant create,
//! import django.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use crate::auth::password::PasswordHasher;
use crate::auth::{JwtKeys, Role};
use crate::config::Settings;
use crate::db;
use crate::db::models::NewUser;
use crate::startup::Application;

#[derive(Parser)]
#[command(name = "confab", version, about = "Actor-based realtime chat server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve HTTP and WebSocket (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print an access token for a user (for platform integration and tests).
    Token {
        #[arg(long)]
        user_id: Uuid,
        /// Tenant id; the default tenant when absent.
        #[arg(long)]
        tenant: Option<Uuid>,
        #[arg(long, default_value = "user")]
        role: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = 3600)]
        ttl_secs: i64,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Import a seed system's chat history.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Django `dumpdata` JSON file of a seed system's chat app (and its users).
    Django {
        #[arg(long)]
        file: std::path::PathBuf,
        /// Tenant id or name; the default tenant when absent.
        #[arg(long)]
        tenant: Option<String>,
        /// Read and check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Any bad record stops the run before anything is written.
        #[arg(long)]
        strict: bool,
        /// Messages per committed chunk of rooms (a killed run continues after the last one).
        #[arg(long, default_value_t = crate::import::CHUNK)]
        chunk_messages: usize,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from CONFAB_PASSWORD or the first line of stdin.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Tenant id or name.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value = "user")]
        role: String,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its id.
    Create { name: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("confab: {e}");
            return ExitCode::from(2);
        }
    };
    let result =
        actix_web::rt::System::new().block_on(run(cli.command.unwrap_or(Command::Serve), settings));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab: {e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn run(command: Command, settings: Settings) -> CliResult {
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            log::info!("confab listening on port {}", app.port());
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let applied = db::run_migrations(&settings.database.url).await?;
            println!("applied {} migration(s)", applied.len());
        }
        Command::Token {
            user_id,
            tenant,
            role,
            name,
            ttl_secs,
        } => {
            let role = Role::parse(&role).ok_or("--role must be user, admin or service")?;
            if ttl_secs <= 0 {
                return Err("--ttl-secs must be positive".into());
            }
            let keys = JwtKeys::from_settings(&settings.auth)?;
            let name =
                name.unwrap_or_else(|| format!("User {}", &user_id.simple().to_string()[..8]));
            let tenant = tenant.unwrap_or(db::tenants::DEFAULT_TENANT_ID);
            let claims = JwtKeys::claims_for(user_id, tenant, &name, role, ttl_secs, None);
            println!("{}", keys.mint(claims)?);
        }
        Command::User {
            command:
                UserCommand::Create {
                    username,
                    display_name,
                    email,
                    tenant,
                    role,
                },
        } => {
            Role::parse(&role).ok_or("--role must be user, admin or service")?;
            let username = crate::domain::username("username", &username)?;
            let display_name = crate::domain::display_name(
                "display_name",
                display_name.as_deref().unwrap_or(&username),
            )?;
            let email = email
                .as_deref()
                .map(|e| crate::domain::email("email", e))
                .transpose()?;
            let password = match std::env::var("CONFAB_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let password = crate::domain::password("password", &password)?;
            db::run_migrations(&settings.database.url).await?;
            let pool = db::pool::build(&settings.database)?;
            let mut conn = pool.get().await?;
            let tenant_id = match tenant {
                Some(t) => {
                    db::tenants::find(&mut conn, &t)
                        .await?
                        .ok_or("unknown tenant")?
                        .id
                }
                None => db::tenants::DEFAULT_TENANT_ID,
            };
            let hash = PasswordHasher::new(&settings.auth)?.hash(password).await?;
            let user = db::users::insert(
                &mut conn,
                NewUser {
                    id: Uuid::new_v4(),
                    tenant_id,
                    username: Some(&username),
                    email: email.as_deref(),
                    password_hash: Some(&hash),
                    display_name: &display_name,
                    role: &role,
                },
            )
            .await?;
            println!("{}", user.id);
        }
        Command::Tenant {
            command: TenantCommand::Create { name },
        } => {
            let name = crate::domain::text("name", &name, 1, 128, false)?;
            db::run_migrations(&settings.database.url).await?;
            let pool = db::pool::build(&settings.database)?;
            let mut conn = pool.get().await?;
            let tenant = db::tenants::create(&mut conn, &name).await?;
            println!("{}", tenant.id);
        }
        Command::Import {
            command:
                ImportCommand::Django {
                    file,
                    tenant,
                    dry_run,
                    strict,
                    chunk_messages,
                },
        } => {
            let options = crate::import::Options {
                file,
                tenant,
                dry_run,
                strict,
                chunk: chunk_messages,
            };
            import(&settings, options).await?;
        }
    }
    Ok(())
}

/// `confab import django`: migrates, imports, prints the summary.
async fn import(settings: &Settings, options: crate::import::Options) -> CliResult {
    db::run_migrations(&settings.database.url).await?;
    // The import holds two connections at once.
    let mut database = settings.database.clone();
    database.pool_size = database.pool_size.max(2);
    let pool = db::pool::build(&database)?;
    let report = crate::import::run(&pool, options).await?;
    print!("{}", report.summary());
    if report.refused() {
        return Err("bad records and --strict: nothing was written".into());
    }
    Ok(())
}
