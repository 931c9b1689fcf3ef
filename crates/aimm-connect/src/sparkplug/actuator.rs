//! [`MqttActuator`]: commands a machine that is a Sparkplug device by DCMD writes of its
//! `commands/*` metrics, QoS 1, each signed by the host ([`CommandSigner`]). While the host has no broker connection it refuses commands
//! rather than queue them: a command delivered late would act on a machine that has moved on
//! (the edge node also drops commands older than its limit).

use super::payload::{self, Value};
use super::trust::CommandSigner;
use aimm_model::{Actuator, ActuatorError, MachineId};
use rumqttc::{AsyncClient, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// An [`Actuator`] publishing DCMD to one device.
pub struct MqttActuator {
    client: AsyncClient,
    signer: Arc<CommandSigner>,
    topic: String,
    machine: MachineId,
    online: Arc<AtomicBool>,
    /// Last override sent: a loop repeats its command every sample, the wire carries changes.
    last_override: Option<f64>,
}

impl MqttActuator {
    pub(crate) fn new(
        client: AsyncClient,
        signer: Arc<CommandSigner>,
        topic: String,
        machine: MachineId,
        online: Arc<AtomicBool>,
    ) -> Self {
        Self {
            client,
            signer,
            topic,
            machine,
            online,
            last_override: None,
        }
    }

    fn send(&mut self, command: &str, metric: &str, value: Value) -> Result<(), ActuatorError> {
        let fail = |reason: String| ActuatorError {
            machine: self.machine.to_string(),
            command: command.into(),
            reason,
        };
        if !self.online.load(Ordering::SeqCst) {
            return Err(fail(format!("no broker connection for {}", self.topic)));
        }
        let bytes = self.signer.encode(&self.topic, &[(metric, value)]);
        self.client
            .try_publish(self.topic.clone(), QoS::AtLeastOnce, false, bytes)
            .map_err(|e| fail(format!("{}: {e}", self.topic)))
    }
}

impl Actuator for MqttActuator {
    fn set_feed_override(&mut self, pct: f64) -> Result<(), ActuatorError> {
        if self.last_override == Some(pct) && self.online.load(Ordering::SeqCst) {
            return Ok(());
        }
        let command = format!("feed override {pct:.1} %");
        // After a failure the machine may have moved to its own fallback: send the next
        // command whatever its value.
        self.last_override = None;
        self.send(&command, payload::CMD_FEED_OVERRIDE, Value::Number(pct))?;
        self.last_override = Some(pct);
        Ok(())
    }

    fn set_feed_hold(&mut self, hold: bool) -> Result<(), ActuatorError> {
        self.send("feed hold", payload::CMD_FEED_HOLD, Value::Flag(hold))
    }

    fn set_radius_wear_offset(
        &mut self,
        register: u32,
        _value_mm: f64,
    ) -> Result<(), ActuatorError> {
        Err(ActuatorError {
            machine: self.machine.to_string(),
            command: format!("radius wear offset D{register}"),
            reason: "the Sparkplug device publishes no writable offset metric".into(),
        })
    }
}
