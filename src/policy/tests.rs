//! The policy as a table: each row a room, a caller, an action and the answer.

use super::*;

/// The expected answer: allowed, not found, forbidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Ok,
    NotFound,
    Forbidden,
}

fn answer(r: AppResult<()>) -> Want {
    match r {
        Ok(()) => Want::Ok,
        Err(AppError::NotFound) => Want::NotFound,
        Err(AppError::Forbidden(_)) => Want::Forbidden,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

const TRUSTED: Standing = Standing {
    trusted: true,
    role: None,
};
const OUTSIDER: Standing = Standing {
    trusted: false,
    role: None,
};

fn member(role: Role) -> Standing {
    Standing {
        trusted: false,
        role: Some(role),
    }
}

fn room(kind: RoomType) -> RoomFacts {
    RoomFacts {
        kind,
        is_active: true,
    }
}

use Role::*;
use RoomType::*;
use Want::Forbidden as F;
use Want::NotFound as N;
use Want::Ok as Y;

#[test]
fn who_may_post_react_and_type() {
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (
            Group,
            member(Member),
            Change::Post { system: false }.into(),
            Y,
        ),
        (
            Group,
            member(Observer),
            Change::Post { system: false }.into(),
            F,
        ),
        (Group, OUTSIDER, Change::Post { system: false }.into(), N),
        (Public, OUTSIDER, Change::Post { system: false }.into(), F),
        (
            Channel,
            member(Member),
            Change::Post { system: false }.into(),
            F,
        ),
        (
            Channel,
            member(Moderator),
            Change::Post { system: false }.into(),
            Y,
        ),
        (Channel, TRUSTED, Change::Post { system: false }.into(), Y),
        (
            Group,
            member(Owner),
            Change::Post { system: true }.into(),
            F,
        ),
        (Group, TRUSTED, Change::Post { system: true }.into(), Y),
        (
            Direct,
            member(Owner),
            Change::Post { system: false }.into(),
            Y,
        ),
        (Group, member(Observer), Change::React.into(), F),
        (Channel, member(Member), Change::React.into(), Y),
        (Group, member(Observer), Access::Type.into(), F),
        (Group, member(Member), Access::Type.into(), Y),
        (Group, TRUSTED, Access::Type.into(), N),
        (Public, OUTSIDER, Access::Type.into(), F),
    ];
    check(rows);
}

#[test]
fn who_may_see_read_and_listen() {
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (Public, OUTSIDER, Access::See.into(), Y),
        (Group, OUTSIDER, Access::See.into(), N),
        (Group, TRUSTED, Access::See.into(), Y),
        (Public, OUTSIDER, Access::Read.into(), N),
        (Group, member(Observer), Access::Read.into(), Y),
        (Direct, TRUSTED, Access::Read.into(), Y),
        (Group, TRUSTED, Access::Listen.into(), N),
        (Public, OUTSIDER, Access::Listen.into(), F),
        (Group, member(Observer), Access::Listen.into(), Y),
        (Group, TRUSTED, Access::AsMember.into(), N),
        (
            Group,
            member(Member),
            Access::EditHistory { own: true }.into(),
            Y,
        ),
        (
            Group,
            member(Member),
            Access::EditHistory { own: false }.into(),
            F,
        ),
        (
            Group,
            member(Moderator),
            Access::EditHistory { own: false }.into(),
            Y,
        ),
        (Group, TRUSTED, Access::EditHistory { own: false }.into(), Y),
        (Group, OUTSIDER, Access::EditHistory { own: true }.into(), N),
    ];
    check(rows);
}

#[test]
fn who_may_edit_delete_and_mark_read() {
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (Group, member(Member), Change::Edit { own: true }.into(), Y),
        (Group, member(Owner), Change::Edit { own: false }.into(), F),
        (Group, TRUSTED, Change::Edit { own: false }.into(), F),
        (
            Group,
            member(Member),
            Change::Delete { own: true }.into(),
            Y,
        ),
        (
            Group,
            member(Member),
            Change::Delete { own: false }.into(),
            F,
        ),
        (
            Group,
            member(Moderator),
            Change::Delete { own: false }.into(),
            Y,
        ),
        (Direct, TRUSTED, Change::Delete { own: false }.into(), Y),
        (Group, member(Observer), Change::MarkRead.into(), Y),
        (Group, TRUSTED, Change::MarkRead.into(), N),
        (Group, OUTSIDER, Change::MarkRead.into(), N),
    ];
    check(rows);
}

#[test]
fn who_may_change_membership() {
    let add = |role| Action::from(Change::AddMember { role });
    let remove = |target| Action::from(Change::RemoveMember { target });
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (Public, OUTSIDER, Change::Join.into(), Y),
        (Group, OUTSIDER, Change::Join.into(), N),
        (Group, TRUSTED, Change::Join.into(), F),
        (Group, TRUSTED, Change::Leave.into(), N),
        (Group, member(Moderator), add(Member), Y),
        (Group, member(Moderator), add(Admin), F),
        (Group, member(Member), add(Member), F),
        (Direct, member(Owner), add(Member), F),
        (Group, TRUSTED, add(Owner), Y),
        (Group, member(Member), Change::Leave.into(), Y),
        (Direct, member(Owner), Change::Leave.into(), F),
        (Group, member(Admin), remove(Member), Y),
        (Group, member(Admin), remove(Admin), F),
        (Group, member(Moderator), remove(Member), F),
        (Group, member(Owner), remove(Owner), Y),
        (Direct, TRUSTED, remove(Owner), F),
    ];
    check(rows);
}

#[test]
fn who_may_change_roles_and_the_room() {
    let set = |target, to| Action::from(Change::SetRole { target, to });
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (Group, member(Admin), set(Member, Moderator), Y),
        (Group, member(Admin), set(Member, Admin), Y),
        (Group, member(Admin), set(Member, Owner), F),
        (Group, member(Admin), set(Admin, Member), F),
        (Group, member(Moderator), set(Member, Observer), F),
        (Group, member(Owner), set(Owner, Member), Y),
        (Group, TRUSTED, set(Owner, Observer), Y),
        (Group, member(Admin), Change::UpdateRoom.into(), Y),
        (Group, member(Moderator), Change::UpdateRoom.into(), F),
        (Group, member(Admin), Change::SetActive.into(), F),
        (Group, member(Owner), Change::SetActive.into(), Y),
        (Public, OUTSIDER, Change::UpdateRoom.into(), F),
    ];
    check(rows);
}

#[test]
fn a_deactivated_room_takes_only_read_marks_and_trusted_room_changes() {
    let off = |kind| RoomFacts {
        kind,
        is_active: false,
    };
    let rows: &[(RoomFacts, Standing, Action, Want)] = &[
        (
            off(Group),
            member(Owner),
            Change::Post { system: false }.into(),
            F,
        ),
        (off(Group), member(Member), Change::MarkRead.into(), Y),
        (off(Group), member(Owner), Change::UpdateRoom.into(), F),
        (off(Group), TRUSTED, Change::UpdateRoom.into(), Y),
        (off(Group), TRUSTED, Change::SetActive.into(), Y),
        (off(Group), TRUSTED, Change::Post { system: true }.into(), F),
        (
            off(Group),
            OUTSIDER,
            Change::Post { system: false }.into(),
            N,
        ),
        (off(Group), member(Member), Access::Read.into(), Y),
    ];
    for (i, (facts, who, action, want)) in rows.iter().enumerate() {
        assert_eq!(
            answer(may(*who, *facts, *action)),
            *want,
            "row {i}: {action:?}"
        );
    }
}

fn check(rows: &[(RoomType, Standing, Action, Want)]) {
    for (i, (kind, who, action, want)) in rows.iter().enumerate() {
        let got = answer(may(*who, room(*kind), *action));
        assert_eq!(got, *want, "row {i}: {kind:?} {who:?} {action:?}");
    }
}

// ---- moderation (issue 17) ----

#[test]
fn who_may_pin_delete_late_and_report() {
    let pin = Action::from(Change::Pin);
    let late = Action::from(Change::DeleteLate);
    let report = Action::from(Change::Report);
    let rows: &[(RoomType, Standing, Action, Want)] = &[
        (Group, member(Member), pin, F),
        (Group, member(Observer), pin, F),
        (Group, member(Moderator), pin, Y),
        (Group, member(Owner), pin, Y),
        (Group, TRUSTED, pin, Y),
        (Group, OUTSIDER, pin, N),
        (Channel, member(Member), pin, F),
        (Channel, member(Moderator), pin, Y),
        (Public, OUTSIDER, pin, F),
        (Public, member(Member), pin, F),
        (Direct, member(Owner), pin, Y),
        (Direct, OUTSIDER, pin, N),
        (Group, member(Member), late, F),
        (Group, member(Moderator), late, Y),
        (Group, member(Admin), late, Y),
        (Group, TRUSTED, late, Y),
        (Direct, member(Owner), late, Y),
        (Direct, TRUSTED, late, Y),
        (Group, member(Member), report, Y),
        (Group, member(Observer), report, Y),
        (Channel, member(Member), report, Y),
        (Group, OUTSIDER, report, N),
        (Public, OUTSIDER, report, F),
        (Group, TRUSTED, report, Y),
        (Group, member(Member), Access::Reports.into(), F),
        (Group, member(Moderator), Access::Reports.into(), Y),
        (Group, TRUSTED, Access::Reports.into(), Y),
        (Group, OUTSIDER, Access::Reports.into(), N),
        (Public, OUTSIDER, Access::Reports.into(), N),
    ];
    check(rows);
}

#[test]
fn a_blocked_user_cannot_reach_the_one_who_blocks_them() {
    assert_eq!(answer(may_reach(false)), Y);
    assert_eq!(answer(may_reach(true)), F);
    match may_reach(true) {
        Err(AppError::Forbidden(why)) => assert_eq!(why, NOT_REACHABLE),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nothing_changes_a_deactivated_room_by_pin_or_report() {
    let off = RoomFacts {
        kind: Group,
        is_active: false,
    };
    assert_eq!(answer(may(member(Owner), off, Change::Pin)), F);
    assert_eq!(answer(may(member(Member), off, Change::Report)), F);
}
