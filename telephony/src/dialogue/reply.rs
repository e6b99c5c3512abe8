//! What a turn produces: the reply text and the actions the call loop carries out.

use serde::{Deserialize, Serialize};

use crate::agent::Weekday;

/// Local time at the business, for "are you open now", "today" and "tomorrow". The call loop computes it
/// from the agent's time zone; `None` means unknown, and the policy then answers with the weekly hours.
#[derive(Clone, Copy, Debug)]
pub struct LocalTime {
    /// Day of the week at the business.
    pub weekday: Weekday,
    /// Minutes after local midnight, 0 to 1439.
    pub minute: u16,
}

/// What the agent says for one turn, and what the call loop must do.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// Text to synthesise: short sentences, no markup. Never empty.
    pub text: String,
    /// Side effects, in order, after the text is spoken.
    pub actions: Vec<Action>,
}

/// Something the call loop does on the policy's behalf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Deliver a message to the business.
    TakeMessage(Message),
    /// Ask the business to confirm an appointment; not a booked slot.
    BookingRequest(Booking),
    /// Bridge the caller to this E.164 number.
    Transfer {
        /// Destination, the agent's transfer number.
        to: String,
        /// Why, so the business can prioritise.
        reason: TransferReason,
    },
    /// Hang up after the text is spoken.
    EndCall,
    /// How an outbound mission went: what the callee answered, or that a machine picked up.
    MissionResult {
        /// The overall result.
        outcome: super::mission::MissionOutcome,
        /// The callee's answer in their words, when there is one.
        answer: Option<String>,
        /// A voicemail message was left.
        message_left: bool,
    },
}

/// A message the caller confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The caller's name, when given.
    pub name: Option<String>,
    /// Callback number: the caller id (E.164) or the digits the caller gave.
    pub callback: Option<String>,
    /// The message, or the question the policy could not answer.
    pub reason: String,
}

/// An appointment request the caller confirmed, for staff to turn into a slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The caller's name, when given.
    pub name: Option<String>,
    /// Callback number: the caller id (E.164) or the digits the caller gave.
    pub callback: Option<String>,
    /// What the appointment is for (a listed service when one was named).
    pub reason: String,
    /// Preferred day and time as the caller put it ("next Tuesday morning").
    pub preferred_time: Option<String>,
}

/// Why a call is transferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferReason {
    /// The caller asked for a person.
    Person,
    /// The caller has an emergency.
    Emergency,
}
