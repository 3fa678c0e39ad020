//! PostgreSQL: the project profile and user verification flows.

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::PostgresStore;
use crate::engine::store::*;
use crate::{Error, Result};

const PROFILE_COLS: &str =
    "project_id, display_name, support_url, user_verification_url, verify_connect_links, logo_content_type, logo_sha256, updated_at";
const VERIFICATION_COLS: &str = "id_hash, project_id, purpose, subject, link_state_hash, expected_user_id, confirmed_user_id, \
     cookie_name, binding_hash, status, created_at, expires_at, updated_at";

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize, table: &str) -> Result<T> {
    row.try_get(i).map_err(|e| Error::Internal(format!("stored {table}.{}: {e}", row.columns()[i].name())))
}

fn profile(r: &Row) -> Result<ProjectProfileRecord> {
    const T: &str = "project_profiles";
    let content_type: Option<String> = get(r, 5, T)?;
    let sha256: Option<String> = get(r, 6, T)?;
    Ok(ProjectProfileRecord {
        project_id: get(r, 0, T)?,
        display_name: get(r, 1, T)?,
        support_url: get(r, 2, T)?,
        user_verification_url: get(r, 3, T)?,
        verify_connect_links: get(r, 4, T)?,
        logo: content_type.zip(sha256).map(|(content_type, sha256)| LogoRef { content_type, sha256 }),
        updated_at: get(r, 7, T)?,
    })
}

fn verification(r: &Row) -> Result<UserVerificationRecord> {
    const T: &str = "user_verifications";
    let status: String = get(r, 9, T)?;
    Ok(UserVerificationRecord {
        id_hash: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        purpose: get(r, 2, T)?,
        subject: get(r, 3, T)?,
        link_state_hash: get(r, 4, T)?,
        expected_user_id: get(r, 5, T)?,
        confirmed_user_id: get(r, 6, T)?,
        cookie_name: get(r, 7, T)?,
        binding_hash: get(r, 8, T)?,
        status: VerificationStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("stored {T}.status has an unknown value {status:?}")))?,
        created_at: get(r, 10, T)?,
        expires_at: get(r, 11, T)?,
        updated_at: get(r, 12, T)?,
    })
}

impl PostgresStore {
    pub(super) async fn profile_of(&self, project_id: &str) -> Result<Option<ProjectProfileRecord>> {
        let sql = format!("SELECT {PROFILE_COLS} FROM project_profiles WHERE project_id = $1");
        self.row(&sql, &[&project_id]).await?.as_ref().map(profile).transpose()
    }

    pub(super) async fn put_profile(&self, p: &ProjectProfileRecord) -> Result<()> {
        let sql = "INSERT INTO project_profiles (project_id, display_name, support_url, user_verification_url, verify_connect_links, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id) DO UPDATE SET display_name = excluded.display_name, \
                   support_url = excluded.support_url, user_verification_url = excluded.user_verification_url, \
                   verify_connect_links = excluded.verify_connect_links, updated_at = excluded.updated_at";
        let params: [&(dyn ToSql + Sync); 6] =
            [&p.project_id, &p.display_name, &p.support_url, &p.user_verification_url, &p.verify_connect_links, &p.updated_at];
        self.execute(sql, &params).await.map(drop)
    }

    pub(super) async fn put_logo(&self, project_id: &str, logo: Option<&ProjectLogo>, now: i64) -> Result<()> {
        let ct = logo.map(|l| l.meta.content_type.as_str());
        let sha = logo.map(|l| l.meta.sha256.as_str());
        let data = logo.map(|l| l.data.as_slice());
        let sql = "INSERT INTO project_profiles (project_id, logo_content_type, logo_sha256, logo, updated_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (project_id) DO UPDATE SET logo_content_type = excluded.logo_content_type, \
                   logo_sha256 = excluded.logo_sha256, logo = excluded.logo, updated_at = excluded.updated_at";
        self.execute(sql, &[&project_id, &ct, &sha, &data, &now]).await.map(drop)
    }

    pub(super) async fn logo_of(&self, project_id: &str) -> Result<Option<ProjectLogo>> {
        let sql = "SELECT logo_content_type, logo_sha256, logo FROM project_profiles WHERE project_id = $1 AND logo IS NOT NULL";
        let Some(r) = self.row(sql, &[&project_id]).await? else { return Ok(None) };
        const T: &str = "project_profiles";
        Ok(Some(ProjectLogo { meta: LogoRef { content_type: get(&r, 0, T)?, sha256: get(&r, 1, T)? }, data: get(&r, 2, T)? }))
    }

    pub(super) async fn insert_verification(&self, v: &UserVerificationRecord) -> Result<()> {
        let sql = format!("INSERT INTO user_verifications ({VERIFICATION_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)");
        let params: [&(dyn ToSql + Sync); 13] = [
            &v.id_hash,
            &v.project_id,
            &v.purpose,
            &v.subject,
            &v.link_state_hash,
            &v.expected_user_id,
            &v.confirmed_user_id,
            &v.cookie_name,
            &v.binding_hash,
            &v.status.as_str(),
            &v.created_at,
            &v.expires_at,
            &v.updated_at,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    pub(super) async fn verification_by_hash(&self, id_hash: &str) -> Result<Option<UserVerificationRecord>> {
        let sql = format!("SELECT {VERIFICATION_COLS} FROM user_verifications WHERE id_hash = $1");
        self.row(&sql, &[&id_hash]).await?.as_ref().map(verification).transpose()
    }

    pub(super) async fn advance_verification(
        &self,
        id_hash: &str,
        from: VerificationStatus,
        to: VerificationStatus,
        confirmed_user_id: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE user_verifications SET status = $3, confirmed_user_id = COALESCE($4, confirmed_user_id), updated_at = $5 \
                   WHERE id_hash = $1 AND status = $2 AND expires_at > $5";
        Ok(self.execute(sql, &[&id_hash, &from.as_str(), &to.as_str(), &confirmed_user_id, &now]).await? == 1)
    }

    pub(super) async fn passed_for_link(&self, link_state_hash: &str) -> Result<Vec<UserVerificationRecord>> {
        let sql = format!(
            "SELECT {VERIFICATION_COLS} FROM user_verifications WHERE link_state_hash = $1 AND status = 'PASSED' \
             ORDER BY updated_at DESC, id_hash"
        );
        self.rows(&sql, &[&link_state_hash]).await?.iter().map(verification).collect()
    }
}
