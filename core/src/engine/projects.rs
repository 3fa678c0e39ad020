//! Projects and their API keys (stored hashed).

use crate::engine::store::{ApiKeyRecord, Project};
use crate::engine::{clock, secrets, CallbackAllowList, Engine, OriginAllowList, Principal};
use crate::model::{API_KEY_ID_PREFIX, API_KEY_PREFIX, PROJECT_PREFIX};
use crate::{Error, Result};

/// A key as handed out once: the secret is never stored or shown again.
#[derive(Clone, PartialEq)]
pub struct NewApiKey {
    /// The key's record (hash, hint, id).
    pub record: ApiKeyRecord,
    /// The secret, `gl_…`: show it once.
    pub secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey").field("id", &self.record.id).field("secret", &"***").finish()
    }
}

/// Loopback callback URLs and browser origins (any port) a dev broker allows on top of its
/// project's own, in memory only: they are never stored, so they end with the `--dev` process.
pub const DEV_LOOPBACK: [&str; 2] = ["http://localhost", "http://127.0.0.1"];

/// What [`Engine::bootstrap`] found or made.
#[derive(Debug)]
pub struct Bootstrap {
    /// The default project.
    pub project: Project,
    /// Its first key, when the project was just created.
    pub created_key: Option<NewApiKey>,
}

impl Engine {
    /// Returns the default project, creating it and its first API key on an empty database.
    /// `allowed_callback_urls` and `allowed_origins` seed a new project's allow-lists. Brokers
    /// starting together on one empty database create one project: the first to take the
    /// bootstrap lease creates it, the others find it.
    pub async fn bootstrap(&self, allowed_callback_urls: &[String], allowed_origins: &[String]) -> Result<Bootstrap> {
        for (i, u) in allowed_callback_urls.iter().enumerate() {
            CallbackAllowList::check_entry(&format!("allowed_callback_urls[{i}]"), u)?;
        }
        for (i, o) in allowed_origins.iter().enumerate() {
            OriginAllowList::check_entry(&format!("allowed_origins[{i}]"), o)?;
        }
        const LEASE: &str = "bootstrap";
        let holder = secrets::random_token(16)?;
        let give_up = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(project) = self.store.first_project().await? {
                return Ok(Bootstrap { project, created_key: None });
            }
            let now = clock::now_ms();
            if self.store.acquire_lease(LEASE, &holder, now + 30_000, now).await? {
                let made = self.create_first_project(allowed_callback_urls, allowed_origins).await;
                self.store.release_lease(LEASE, &holder).await?;
                return made;
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(Error::Unavailable { message: "another broker is creating the first project; try again".into(), retry_after: 1 });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The first project and its key, by the holder of the bootstrap lease (unless a broker that
    /// held it before finished the job).
    async fn create_first_project(&self, allowed_callback_urls: &[String], allowed_origins: &[String]) -> Result<Bootstrap> {
        if let Some(project) = self.store.first_project().await? {
            return Ok(Bootstrap { project, created_key: None });
        }
        let project = Project {
            id: secrets::new_id(PROJECT_PREFIX)?,
            name: "default".into(),
            allowed_callback_urls: allowed_callback_urls.to_vec(),
            allowed_origins: allowed_origins.to_vec(),
            created_at: clock::now_ms(),
        };
        self.store.insert_project(&project).await?;
        let key = self.create_api_key(&project.id, "initial").await?;
        Ok(Bootstrap { project, created_key: Some(key) })
    }

    /// Resolves an `x-api-key` to its project; `Unauthorized` when unknown or revoked.
    pub async fn authenticate(&self, api_key: Option<&str>) -> Result<Principal> {
        let key = api_key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::Unauthorized("missing x-api-key header".into()))?;
        super::refuse_outside_mcp(key)?;
        let record = self
            .store
            .api_key_by_hash(&secrets::sha256_hex(key))
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown or revoked API key".into()))?;
        let project = self
            .store
            .get_project(&record.project_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the key's project no longer exists".into()))?;
        Ok(Principal::api_key(self.in_force(project), &record.id))
    }

    /// The project as this broker enforces it: in dev mode, with [`DEV_LOOPBACK`] added to its
    /// allowed callback URLs and origins, in memory only.
    pub(crate) fn in_force(&self, mut project: Project) -> Project {
        if self.config.dev_mode {
            for entry in DEV_LOOPBACK {
                for list in [&mut project.allowed_callback_urls, &mut project.allowed_origins] {
                    if !list.iter().any(|e| e == entry) {
                        list.push(entry.to_string());
                    }
                }
            }
        }
        project
    }

    /// Creates an API key for `project_id`, returning its secret once.
    pub async fn create_api_key(&self, project_id: &str, name: &str) -> Result<NewApiKey> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(Error::validation("name", "must be 1 to 100 characters"));
        }
        let secret = format!("{API_KEY_PREFIX}{}", secrets::random_token(40)?);
        let record = ApiKeyRecord {
            id: secrets::new_id(API_KEY_ID_PREFIX)?,
            project_id: project_id.to_string(),
            name: name.trim().to_string(),
            hash: secrets::sha256_hex(&secret),
            hint: secret[..API_KEY_PREFIX.len() + 4].to_string(),
            created_at: clock::now_ms(),
            revoked_at: None,
        };
        self.store.insert_api_key(&record).await?;
        Ok(NewApiKey { record, secret })
    }

    /// A project's keys (hash and hint only).
    pub async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKeyRecord>> {
        self.store.list_api_keys(project_id).await
    }

    /// Revokes key `key_id` and, with it, every client token it minted (and any token minted
    /// before brokers recorded which key minted it); `NotFound` when there is no such active key.
    pub async fn revoke_api_key(&self, project_id: &str, key_id: &str) -> Result<()> {
        if self.store.revoke_api_key(project_id, key_id, clock::now_ms()).await? {
            Ok(())
        } else {
            Err(Error::not_found("api key", key_id))
        }
    }

    /// Adds callback URLs to a project's allow-list (checked first; nothing changes on error).
    pub async fn allow_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<Vec<String>> {
        let project = self.store.get_project(project_id).await?.ok_or_else(|| Error::not_found("project", project_id))?;
        let mut list = project.allowed_callback_urls;
        for (i, u) in urls.iter().enumerate() {
            CallbackAllowList::check_entry(&format!("url[{i}]"), u)?;
        }
        for u in urls {
            if !list.contains(u) {
                list.push(u.clone());
            }
        }
        self.store.set_allowed_callback_urls(project_id, &list).await?;
        Ok(list)
    }

    /// Removes callback URLs from a project's allow-list.
    pub async fn disallow_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<Vec<String>> {
        let project = self.store.get_project(project_id).await?.ok_or_else(|| Error::not_found("project", project_id))?;
        let list: Vec<String> = project.allowed_callback_urls.into_iter().filter(|u| !urls.contains(u)).collect();
        self.store.set_allowed_callback_urls(project_id, &list).await?;
        Ok(list)
    }

    /// Adds browser origins to a project's CORS allow-list (checked first; nothing changes on error).
    pub async fn allow_origins(&self, project_id: &str, origins: &[String]) -> Result<Vec<String>> {
        let project = self.store.get_project(project_id).await?.ok_or_else(|| Error::not_found("project", project_id))?;
        let mut list = project.allowed_origins;
        let checked = origins
            .iter()
            .enumerate()
            .map(|(i, o)| OriginAllowList::check_entry(&format!("origin[{i}]"), o))
            .collect::<Result<Vec<_>>>()?;
        for o in checked {
            if !list.contains(&o) {
                list.push(o);
            }
        }
        self.store.set_allowed_origins(project_id, &list).await?;
        Ok(list)
    }

    /// Removes browser origins from a project's CORS allow-list.
    pub async fn disallow_origins(&self, project_id: &str, origins: &[String]) -> Result<Vec<String>> {
        let project = self.store.get_project(project_id).await?.ok_or_else(|| Error::not_found("project", project_id))?;
        let drop: Vec<String> = origins.iter().map(|o| o.trim_end_matches('/').to_string()).collect();
        let list: Vec<String> = project.allowed_origins.into_iter().filter(|o| !drop.contains(o)).collect();
        self.store.set_allowed_origins(project_id, &list).await?;
        Ok(list)
    }

    /// The default project, if the database has one.
    pub async fn default_project(&self) -> Result<Project> {
        self.store
            .first_project()
            .await?
            .ok_or_else(|| Error::not_found("project", "default (start `grantline serve` once to create it)"))
    }
}
