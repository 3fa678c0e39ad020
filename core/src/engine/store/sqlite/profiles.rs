//! SQLite: the project profile and user verification flows.

use rusqlite::{params, Row};

use super::rows::corrupt;
use super::{all, exec, one, SqliteStore};
use crate::engine::store::*;
use crate::Result;

const PROFILE_COLS: &str =
    "project_id, display_name, support_url, user_verification_url, verify_connect_links, logo_content_type, logo_sha256, updated_at";
const VERIFICATION_COLS: &str = "id_hash, project_id, purpose, subject, link_state_hash, expected_user_id, confirmed_user_id, \
     cookie_name, binding_hash, status, created_at, expires_at, updated_at";

fn profile_row(r: &Row) -> rusqlite::Result<ProjectProfileRecord> {
    let content_type: Option<String> = r.get(5)?;
    let sha256: Option<String> = r.get(6)?;
    Ok(ProjectProfileRecord {
        project_id: r.get(0)?,
        display_name: r.get(1)?,
        support_url: r.get(2)?,
        user_verification_url: r.get(3)?,
        verify_connect_links: r.get(4)?,
        logo: content_type.zip(sha256).map(|(content_type, sha256)| LogoRef { content_type, sha256 }),
        updated_at: r.get(7)?,
    })
}

fn verification_row(r: &Row) -> rusqlite::Result<UserVerificationRecord> {
    let status: String = r.get(9)?;
    Ok(UserVerificationRecord {
        id_hash: r.get(0)?,
        project_id: r.get(1)?,
        purpose: r.get(2)?,
        subject: r.get(3)?,
        link_state_hash: r.get(4)?,
        expected_user_id: r.get(5)?,
        confirmed_user_id: r.get(6)?,
        cookie_name: r.get(7)?,
        binding_hash: r.get(8)?,
        status: VerificationStatus::parse(&status).ok_or_else(|| corrupt(9, format!("unknown verification status {status:?}")))?,
        created_at: r.get(10)?,
        expires_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

impl SqliteStore {
    pub(super) async fn profile_of(&self, project_id: &str) -> Result<Option<ProjectProfileRecord>> {
        let id = project_id.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {PROFILE_COLS} FROM project_profiles WHERE project_id = ?1"), [id], profile_row))
            .await
    }

    pub(super) async fn put_profile(&self, p: &ProjectProfileRecord) -> Result<()> {
        let p = p.clone();
        self.write(move |c| {
            exec(
                c,
                "INSERT INTO project_profiles (project_id, display_name, support_url, user_verification_url, verify_connect_links, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (project_id) DO UPDATE SET display_name = excluded.display_name, \
                 support_url = excluded.support_url, user_verification_url = excluded.user_verification_url, \
                 verify_connect_links = excluded.verify_connect_links, updated_at = excluded.updated_at",
                params![p.project_id, p.display_name, p.support_url, p.user_verification_url, p.verify_connect_links, p.updated_at],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn put_logo(&self, project_id: &str, logo: Option<&ProjectLogo>, now: i64) -> Result<()> {
        let id = project_id.to_string();
        let logo = logo.cloned();
        self.write(move |c| {
            let (ct, sha, data) = match &logo {
                Some(l) => (Some(l.meta.content_type.clone()), Some(l.meta.sha256.clone()), Some(l.data.clone())),
                None => (None, None, None),
            };
            exec(
                c,
                "INSERT INTO project_profiles (project_id, logo_content_type, logo_sha256, logo, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (project_id) DO UPDATE SET logo_content_type = excluded.logo_content_type, \
                 logo_sha256 = excluded.logo_sha256, logo = excluded.logo, updated_at = excluded.updated_at",
                params![id, ct, sha, data, now],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn logo_of(&self, project_id: &str) -> Result<Option<ProjectLogo>> {
        let id = project_id.to_string();
        self.lookup(move |c| {
            one(
                c,
                "SELECT logo_content_type, logo_sha256, logo FROM project_profiles WHERE project_id = ?1 AND logo IS NOT NULL",
                [id],
                |r| Ok(ProjectLogo { meta: LogoRef { content_type: r.get(0)?, sha256: r.get(1)? }, data: r.get(2)? }),
            )
        })
        .await
    }

    pub(super) async fn insert_verification(&self, v: &UserVerificationRecord) -> Result<()> {
        let v = v.clone();
        self.write(move |c| {
            exec(
                c,
                &format!("INSERT INTO user_verifications ({VERIFICATION_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"),
                params![
                    v.id_hash,
                    v.project_id,
                    v.purpose,
                    v.subject,
                    v.link_state_hash,
                    v.expected_user_id,
                    v.confirmed_user_id,
                    v.cookie_name,
                    v.binding_hash,
                    v.status.as_str(),
                    v.created_at,
                    v.expires_at,
                    v.updated_at
                ],
            )
            .map(drop)
        })
        .await
    }

    pub(super) async fn verification(&self, id_hash: &str) -> Result<Option<UserVerificationRecord>> {
        let h = id_hash.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {VERIFICATION_COLS} FROM user_verifications WHERE id_hash = ?1"), [h], verification_row))
            .await
    }

    pub(super) async fn advance_verification(
        &self,
        id_hash: &str,
        from: VerificationStatus,
        to: VerificationStatus,
        confirmed_user_id: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let (h, who) = (id_hash.to_string(), confirmed_user_id.map(str::to_string));
        self.write(move |c| {
            exec(
                c,
                "UPDATE user_verifications SET status = ?3, confirmed_user_id = COALESCE(?4, confirmed_user_id), updated_at = ?5 \
                 WHERE id_hash = ?1 AND status = ?2 AND expires_at > ?5",
                params![h, from.as_str(), to.as_str(), who, now],
            )
            .map(|n| n == 1)
        })
        .await
    }

    pub(super) async fn passed_for_link(&self, link_state_hash: &str) -> Result<Vec<UserVerificationRecord>> {
        let h = link_state_hash.to_string();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {VERIFICATION_COLS} FROM user_verifications WHERE link_state_hash = ?1 AND status = 'PASSED' \
                     ORDER BY updated_at DESC, id_hash"
                ),
                [h],
                verification_row,
            )
        })
        .await
    }
}
