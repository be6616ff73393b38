//! The antenna's tablets, as a lead or coordinator manages them from
//! Settings: a code that enrols one more tablet, the list of tablets, and
//! revoking a lost or seized one. The server decides who may (a volunteer
//! is refused); these only call it with this tablet's credential
//! (`maraude_sync::enrol`, as `maraude enrolment-code`, `devices`,
//! `revoke`).

use maraude_core::access::Role;
use maraude_core::ids::DeviceId;
use maraude_protocol::api::{DeviceInfo, EnrolmentCode};
use maraude_store::ServerLink;
use maraude_sync::SyncError;

use crate::error::AppError;
use crate::open_store::OpenStore;

async fn link(open: &OpenStore) -> Result<ServerLink, AppError> {
    open.with(|s| s.server_link())
        .await?
        .ok_or_else(|| SyncError::NotEnrolled.into())
}

/// A single-use code that enrols one tablet as `role`.
pub async fn enrolment_code(open: &OpenStore, role: Role) -> Result<EnrolmentCode, AppError> {
    Ok(maraude_sync::enrol::enrolment_code(&link(open).await?, role).await?)
}

/// The antenna's tablets, revoked ones included, as the server knows them.
pub async fn devices(open: &OpenStore) -> Result<Vec<DeviceInfo>, AppError> {
    Ok(maraude_sync::enrol::devices(&link(open).await?).await?)
}

/// Cuts `device` off at once (its credential and its certificate).
pub async fn revoke(open: &OpenStore, device: DeviceId) -> Result<DeviceInfo, AppError> {
    Ok(maraude_sync::enrol::revoke(&link(open).await?, *device.as_uuid()).await?)
}
