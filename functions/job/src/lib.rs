//! The scheduled function of ExampleCo Timesheets: a machine-to-machine client that reads its
//! client credentials from AWS Secrets Manager, gets an access token with the OAuth 2.0
//! client-credentials grant and uploads timesheets to the API.

pub mod batch;
pub mod client_assertion;
pub mod client_auth;
pub mod config;
pub mod credentials;
pub mod dpop;
pub mod input;
pub mod job;
pub mod retry;
pub mod token_client;
pub mod token_request;
pub mod upload_client;

pub use client_auth::ClientAuthentication;
pub use config::JobConfig;
pub use dpop::{DpopClientMode, DpopSigner};
pub use job::{BatchReport, JobError, JobReport, RunContext, TimesheetsJob};
