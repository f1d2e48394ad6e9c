//! Typed ids: a room id cannot be passed where a user id is expected. Each is a UUID on the wire
//! and in the store; the types keep them apart across module boundaries (commands, actor messages).

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The plain UUID (for the store and the wire).
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A room's id.
    RoomId
);
typed_id!(
    /// A user's id.
    UserId
);
typed_id!(
    /// A message's id.
    MessageId
);
typed_id!(
    /// A tenant's id.
    TenantId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_uuids_on_the_wire() {
        let u = Uuid::from_u128(42);
        let r = RoomId::from(u);
        assert_eq!(
            serde_json::to_string(&r).ok(),
            serde_json::to_string(&u).ok()
        );
        assert_eq!(r.to_string(), u.to_string());
        assert_eq!(Uuid::from(r), u);
    }
}
