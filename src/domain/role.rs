//! Room roles and room types: the words the policy speaks, parsed once from the wire or the store.

use std::fmt;
use std::str::FromStr;

use crate::error::{AppError, AppResult};

/// A member's role in a room. Declared lowest first: the policy asks `at_least` / `above`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads only.
    Observer,
    Member,
    Moderator,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Moderator,
        Role::Member,
        Role::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Member => "member",
            Role::Observer => "observer",
        }
    }

    /// A role from the wire; the error names the field.
    pub fn parse(field: &str, raw: &str) -> AppResult<Role> {
        raw.parse().map_err(|()| {
            AppError::bad_request(
                field,
                "role must be owner, admin, moderator, member or observer",
            )
        })
    }

    /// A stored role (the database allows only the five); anything else reads as the least.
    pub fn from_store(raw: &str) -> Role {
        raw.parse().unwrap_or(Role::Observer)
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of room: who may join and who may post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomType {
    /// Exactly two members, fixed.
    Direct,
    /// Invite only.
    Group,
    /// Broadcast: moderators and up post, members read.
    Channel,
    /// Anyone of the tenant may find and join it.
    Public,
}

impl RoomType {
    pub const ALL: [RoomType; 4] = [
        RoomType::Direct,
        RoomType::Group,
        RoomType::Channel,
        RoomType::Public,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoomType::Direct => "direct",
            RoomType::Group => "group",
            RoomType::Channel => "channel",
            RoomType::Public => "public",
        }
    }

    /// A room type from the wire; the error names the field.
    pub fn parse(field: &str, raw: &str) -> AppResult<RoomType> {
        raw.parse().map_err(|()| {
            AppError::bad_request(field, "room_type must be direct, group, channel or public")
        })
    }

    /// A stored room type (the database allows only the four); anything else reads as a group.
    pub fn from_store(raw: &str) -> RoomType {
        raw.parse().unwrap_or(RoomType::Group)
    }
}

impl FromStr for RoomType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RoomType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_room_types_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        for t in RoomType::ALL {
            assert_eq!(t.as_str().parse::<RoomType>(), Ok(t));
        }
        assert!(Role::parse("role", "king").is_err());
        assert!(RoomType::parse("room_type", "lobby").is_err());
        assert_eq!(Role::from_store("nonsense"), Role::Observer);
    }
}
