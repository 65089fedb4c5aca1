//! One response type per kernteam operation.

use poem_openapi::{ApiResponse, payload::Json};

use super::dto::*;

#[derive(ApiResponse)]
pub enum KernteamCreatedResponse {
    /// Convened; you chair it.
    #[oai(status = 201)]
    Created(
        Json<KernteamDto>,
        /// The kernteam.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum KernteamsResponse {
    /// Your school's kernteams and those you sit in.
    #[oai(status = 200)]
    Ok(Json<KernteamPage>),
}

#[derive(ApiResponse)]
pub enum KernteamResponse {
    /// The kernteam, with the meetings you attend.
    #[oai(status = 200)]
    Ok(Json<KernteamDto>),
}

#[derive(ApiResponse)]
pub enum MemberAddedResponse {
    /// Seated.
    #[oai(status = 201)]
    Created(Json<MemberDto>),
}

#[derive(ApiResponse)]
pub enum MemberRemovedResponse {
    /// No longer in the team.
    #[oai(status = 204)]
    Removed,
}

#[derive(ApiResponse)]
pub enum MeetingCreatedResponse {
    /// Scheduled, with its agenda.
    #[oai(status = 201)]
    Created(
        Json<MeetingDto>,
        /// The meeting.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum MeetingResponse {
    /// The meeting as your organisation may see it.
    #[oai(status = 200)]
    Ok(Json<MeetingDto>),
}

#[derive(ApiResponse)]
pub enum ItemCreatedResponse {
    /// On the agenda.
    #[oai(status = 201)]
    Created(Json<ItemDto>),
}

#[derive(ApiResponse)]
pub enum ItemResponse {
    /// The item as it now stands.
    #[oai(status = 200)]
    Ok(Json<ItemDto>),
}

#[derive(ApiResponse)]
pub enum ActionCreatedResponse {
    /// Agreed.
    #[oai(status = 201)]
    Created(Json<ActionDto>),
}

#[derive(ApiResponse)]
pub enum ActionsResponse {
    /// The team's actions by due date.
    #[oai(status = 200)]
    Ok(Json<ActionPage>),
}

#[derive(ApiResponse)]
pub enum ActionResponse {
    /// The action as it now stands.
    #[oai(status = 200)]
    Ok(Json<ActionDto>),
}
