//! The MQTT options `aimm connect mqtt` (the Sparkplug host) and `aimm sim --mqtt` (an edge
//! node) share: how to reach a secured broker, and the command key. Secrets come from files or
//! the environment, never from the command line, which every user of the machine sees in `ps`.

use aimm_connect::sparkplug::BrokerAuth;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Credentials and TLS files for the broker.
#[derive(clap::Args)]
pub struct MqttAuthArgs {
    /// MQTT username (with a password from --mqtt-password-file or AIMM_MQTT_PASSWORD).
    #[arg(long, env = "AIMM_MQTT_USERNAME")]
    mqtt_username: Option<String>,
    /// File whose first line is the MQTT password (else the AIMM_MQTT_PASSWORD variable).
    #[arg(long)]
    mqtt_password_file: Option<PathBuf>,
    /// CA certificate(s), PEM, the broker's certificate must chain to (mqtts:// URLs; default:
    /// the system's trusted roots).
    #[arg(long)]
    mqtt_ca: Option<PathBuf>,
    /// Client certificate (chain), PEM, for a broker that asks for one; with --mqtt-key.
    #[arg(long, requires = "mqtt_key")]
    mqtt_cert: Option<PathBuf>,
    /// Private key, PEM, of --mqtt-cert.
    #[arg(long, requires = "mqtt_cert")]
    mqtt_key: Option<PathBuf>,
}

impl MqttAuthArgs {
    /// The credentials, the password read from its file or the environment.
    pub fn auth(&self) -> Result<BrokerAuth> {
        let from_env = std::env::var("AIMM_MQTT_PASSWORD").ok();
        let password = match (&self.mqtt_password_file, from_env) {
            (Some(file), _) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("--mqtt-password-file {}", file.display()))?;
                Some(text.lines().next().unwrap_or_default().to_string())
            }
            (None, env) => env,
        };
        if password.is_some() && self.mqtt_username.is_none() {
            bail!("an MQTT password is given but no --mqtt-username");
        }
        Ok(BrokerAuth {
            username: self.mqtt_username.clone(),
            password,
            ca_file: self.mqtt_ca.clone(),
            client_cert: self.mqtt_cert.clone().zip(self.mqtt_key.clone()),
        })
    }
}
