//! The listing lifecycle and who may see or change a listing. Pure; tested in model_tests.

use uuid::Uuid;

use super::model::ListingStatus;
use crate::accounts::{AuthUser, Role};

/// What a caller asks to do with a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingAction {
    /// Change fields, ports, opening hours or blackouts.
    Edit,
    Submit,
    Approve,
    Reject,
    Unlist,
    Relist,
    Delete,
}

impl ListingAction {
    pub const ALL: [ListingAction; 7] = [
        Self::Edit,
        Self::Submit,
        Self::Approve,
        Self::Reject,
        Self::Unlist,
        Self::Relist,
        Self::Delete,
    ];

    /// The past participle, for messages: "cannot be approved".
    pub fn done(self) -> &'static str {
        match self {
            Self::Edit => "edited",
            Self::Submit => "submitted",
            Self::Approve => "approved",
            Self::Reject => "rejected",
            Self::Unlist => "unlisted",
            Self::Relist => "relisted",
            Self::Delete => "deleted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} listing cannot be {}", action.done())]
pub struct InvalidTransition {
    pub from: &'static str,
    pub action: ListingAction,
}

/// The lifecycle. `Ok(None)` means the listing is gone (delete).
///
/// Editing keeps the status: a listed charger stays listed when its host fixes a typo or a
/// price, because re-review on every edit would take working chargers off the map; admins
/// see every change in `updated_at` and can unlist. A submitted listing cannot be edited, so
/// the admin approves exactly what they reviewed.
pub fn transition(
    from: ListingStatus,
    action: ListingAction,
) -> Result<Option<ListingStatus>, InvalidTransition> {
    use ListingAction as A;
    use ListingStatus as S;
    let to = match (from, action) {
        (S::Submitted, A::Edit) => None,
        (_, A::Edit) => Some(Some(from)),
        (S::Draft | S::Rejected, A::Submit) => Some(Some(S::Submitted)),
        (S::Submitted, A::Approve) => Some(Some(S::Listed)),
        (S::Submitted, A::Reject) => Some(Some(S::Rejected)),
        (S::Listed, A::Unlist) => Some(Some(S::Unlisted)),
        (S::Unlisted, A::Relist) => Some(Some(S::Listed)),
        (S::Draft | S::Rejected | S::Unlisted, A::Delete) => Some(None),
        _ => None,
    };
    to.ok_or(InvalidTransition {
        from: from.as_str(),
        action,
    })
}

/// What a caller may do with one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Not even that it exists: answered with 404.
    None,
    /// Visible (listed), but not theirs: changes are answered with 403.
    Read,
    Write,
}

/// The owner and admins see and change a listing in any state; everyone else sees only
/// listed ones.
pub fn access(caller: Option<&AuthUser>, host_id: Uuid, status: ListingStatus) -> Access {
    match caller {
        Some(user) if user.role == Role::Admin || user.id == host_id => Access::Write,
        _ if status == ListingStatus::Listed => Access::Read,
        _ => Access::None,
    }
}
