"""Identity worker settings (env vars, read once by the composition root)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from enginedge_streams.settings import EnvSettings


class IdentitySettings(EnvSettings):
    identity_encryption_key: SecretStr | None = Field(
        None,
        description="Required. Base64url 32-byte key (AES-256-GCM) encrypting signing keys and "
        'provider tokens at rest. Generate: `python -c "import os,base64;print(base64.'
        'urlsafe_b64encode(os.urandom(32)).decode())"`. '
        "Changing it makes stored secrets unreadable.",
    )
    jwt_issuer: str = Field("enginedge-identity", description="`iss` of the access tokens.")
    jwt_audience: str = Field("enginedge", description="`aud` of the access tokens.")
    access_token_ttl_seconds: int = Field(
        900, ge=30, le=86_400, description="Access token lifetime."
    )
    refresh_token_ttl_days: float = Field(30.0, gt=0, le=365, description="Refresh token lifetime.")
    signing_key_rotation_days: float = Field(
        30.0, gt=0, le=3650, description="A new signing key is made this often."
    )
    signing_key_check_seconds: float = Field(
        60.0, gt=0, le=86_400, description="How often the key-rotation timer checks."
    )
    rsa_key_bits: int = Field(2048, ge=2048, le=4096, description="RSA size of RS256 signing keys.")
    argon2_time_cost: int = Field(2, ge=1, le=20, description="argon2id iterations (OWASP: 2).")
    argon2_memory_kib: int = Field(
        19_456, ge=8_192, le=1_048_576, description="argon2id memory in KiB (OWASP: 19 MiB)."
    )
    argon2_parallelism: int = Field(1, ge=1, le=16, description="argon2id lanes (OWASP: 1).")
    login_limit_per_account: int = Field(
        10, ge=1, description="Failed logins per account per window (Redis, all replicas)."
    )
    login_limit_per_ip: int = Field(50, ge=1, description="Failed logins per client IP per window.")
    login_window_seconds: float = Field(900.0, gt=0, description="Login throttling window.")
    oauth_state_ttl_seconds: float = Field(
        600.0, gt=0, le=3600, description="OAuth state lifetime."
    )
    oauth_redirect_uri_base: str = Field(
        "http://localhost:3000/oauth/callback",
        description="Default redirect URI is `<base>/<provider>` "
        "(a dev default: set it in production).",
    )
    oauth_allowed_redirect_prefixes: str = Field(
        "", description="Comma list of prefixes a command's own redirect_uri must start with."
    )
    oauth_http_timeout_seconds: float = Field(
        15.0, gt=0, le=120, description="Provider HTTP timeout."
    )
    oauth_github_client_id: str | None = Field(
        None, description="GitHub OAuth app id (unset: off)."
    )
    oauth_github_client_secret: SecretStr | None = Field(None, description="GitHub OAuth secret.")
    oauth_github_authorize_url: str = Field(
        "https://github.com/login/oauth/authorize", description="GitHub authorize endpoint."
    )
    oauth_github_token_url: str = Field(
        "https://github.com/login/oauth/access_token", description="GitHub token endpoint."
    )
    oauth_github_api_url: str = Field("https://api.github.com", description="GitHub REST API.")
    oauth_google_client_id: str | None = Field(
        None, description="Google OIDC client id (unset: off)."
    )
    oauth_google_client_secret: SecretStr | None = Field(None, description="Google OIDC secret.")
    oauth_google_issuer: str = Field(
        "https://accounts.google.com", description="Google OIDC issuer (discovery)."
    )
    oauth_linkedin_client_id: str | None = Field(
        None, description="LinkedIn OIDC client id (unset: off)."
    )
    oauth_linkedin_client_secret: SecretStr | None = Field(
        None, description="LinkedIn OIDC secret."
    )
    oauth_linkedin_issuer: str = Field(
        "https://www.linkedin.com/oauth", description="LinkedIn OIDC issuer (discovery)."
    )
