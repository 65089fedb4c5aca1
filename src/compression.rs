//! Response compression (gzip, br) negotiated from `Accept-Encoding`.
//!
//! poem's own `Compression` middleware compresses every response, including 304s and empty
//! bodies, offers zstd for `*`, and leaves `ETag` and `Vary` alone. This one compresses only
//! bodies worth it, says `Vary: Accept-Encoding`, and gives the compressed representation its own
//! strong ETag (`"…-gzip"`), as a strong validator must differ per content coding; the
//! conditional-request checks in `api::etag` accept both forms.

use poem::{
    Body, Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
    web::{Compress, CompressionAlgo, CompressionLevel},
};

/// Smaller bodies are sent as they are: compression would barely pay for its framing.
const MIN_BYTES: usize = 1024;
/// A middle level: most of the gain for little CPU (brotli's default, 11, is far too slow).
const LEVEL: i32 = 5;

pub struct Compression;

impl<E: Endpoint<Output = Response>> Middleware<E> for Compression {
    type Output = CompressionEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CompressionEndpoint { inner }
    }
}

pub struct CompressionEndpoint<E> {
    inner: E,
}

/// The content codings offered, with the suffix their ETags carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    pub const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    fn algo(self) -> CompressionAlgo {
        match self {
            Coding::Brotli => CompressionAlgo::BR,
            Coding::Gzip => CompressionAlgo::GZIP,
        }
    }

    /// What is appended inside the quotes of an ETag for this coding.
    pub fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Brotli => "-br",
            Coding::Gzip => "-gzip",
        }
    }
}

/// The preferred coding the client accepts: highest q-value, brotli before gzip on a tie;
/// `q=0` refuses a coding, `*` stands for any coding not named.
pub fn negotiate(accept_encoding: &str) -> Option<Coding> {
    let mut weights: Vec<(String, f32)> = Vec::new();
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let Some(name) = parts.next().filter(|n| !n.is_empty()) else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        weights.push((name.to_ascii_lowercase(), q));
    }
    let weight = |coding: Coding| {
        weights
            .iter()
            .find(|(name, _)| name == coding.token())
            .or_else(|| weights.iter().find(|(name, _)| name == "*"))
            .map(|(_, q)| *q)
            .filter(|q| *q > 0.0)
    };
    Coding::ALL
        .into_iter()
        .filter_map(|coding| weight(coding).map(|q| (coding, q)))
        // ALL lists brotli first; `max_by` keeps the last maximum, so walk it in reverse.
        .rev()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(coding, _)| coding)
}

impl<E: Endpoint<Output = Response>> Endpoint for CompressionEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let coding = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .and_then(negotiate);
        let is_head = req.method() == Method::HEAD;
        let mut resp = self.inner.call(req).await?;
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        let Some(coding) = coding else {
            return Ok(resp);
        };
        if is_head
            || matches!(
                resp.status(),
                StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
            )
            || resp.headers().contains_key(header::CONTENT_ENCODING)
        {
            return Ok(resp);
        }
        let bytes = resp.take_body().into_bytes().await?;
        if bytes.len() < MIN_BYTES {
            resp.set_body(Body::from(bytes));
            return Ok(resp);
        }
        if let Some(tagged) = resp
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|tag| tag.starts_with('"') && tag.ends_with('"') && tag.len() >= 2)
            .and_then(|tag| {
                let opaque = &tag[1..tag.len() - 1];
                HeaderValue::from_str(&format!("\"{opaque}{}\"", coding.etag_suffix())).ok()
            })
        {
            resp.headers_mut().insert(header::ETAG, tagged);
        }
        resp.set_body(Body::from(bytes));
        Ok(Compress::new(resp, coding.algo())
            .with_quality(CompressionLevel::Precise(LEVEL))
            .into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values() {
        let cases: &[(&str, Option<Coding>)] = &[
            ("gzip", Some(Coding::Gzip)),
            ("br", Some(Coding::Brotli)),
            ("gzip, deflate, br", Some(Coding::Brotli)),
            ("gzip;q=1.0, br;q=0.5", Some(Coding::Gzip)),
            ("br;q=0, gzip", Some(Coding::Gzip)),
            ("gzip;q=0", None),
            ("identity", None),
            ("deflate", None),
            ("", None),
            ("*", Some(Coding::Brotli)),
            ("*;q=0.1, gzip;q=0.5", Some(Coding::Gzip)),
            ("br;q=0, *", Some(Coding::Gzip)),
            ("GZIP ; q=0.8", Some(Coding::Gzip)),
            ("gzip;q=nonsense", Some(Coding::Gzip)),
        ];
        for (header, expected) in cases {
            assert_eq!(negotiate(header), *expected, "Accept-Encoding: {header}");
        }
    }
}
