//! The HTTP server: the poem application on hyper connections, with the connection limits
//! poem's own `Server` does not offer (OWASP API4, unrestricted resource consumption):
//!
//! - at most `max_connections` at once (more wait in the kernel's accept queue);
//! - a request head must arrive within `header_read_timeout` of the connection waiting for it
//!   (slowloris), and may not exceed the read buffer (`max_header_bytes` × 4; the application
//!   answers a 431 problem above `max_header_bytes` itself);
//! - a keep-alive connection with no traffic for `keep_alive_timeout` is closed (gracefully: a
//!   request in progress finishes first);
//! - on shutdown, no new connections; open ones finish their request within the grace period.
//!
//! The body read timeout lives in [`crate::http::BodyLimit`], where the body is read.

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use http_body_util::combinators::BoxBody;
use hyper::body::Bytes;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use poem::{
    Addr, Endpoint, EndpointExt, IntoEndpoint, Request,
    endpoint::BoxEndpoint,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
    time::Instant,
};

/// The connection limits; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub body_read_timeout: Duration,
    /// Heads (request line and headers) above this get a 431 problem from the application.
    pub max_header_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(15),
            max_header_bytes: 16 * 1024,
        }
    }
}

impl ConnectionLimits {
    /// The read buffer: a head that does not fit is cut off by the HTTP layer itself. Four
    /// times the application's limit, so heads between the two get the 431 problem.
    pub fn read_buffer_bytes(&self) -> usize {
        (self.max_header_bytes * 4).max(8192)
    }
}

/// Serves `endpoint` on `listener` until `shutdown` resolves; then stops accepting and gives
/// open connections `grace` to finish.
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let endpoint: Arc<BoxEndpoint<'static, poem::Response>> =
        Arc::new(endpoint.into_endpoint().map_to_response().boxed());
    let local = listener.local_addr()?;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.read_buffer_bytes());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.read_buffer_bytes() as u32);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: excess connections queue in the kernel.
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            endpoint: endpoint.clone(),
            builder: builder.clone(),
            local,
            remote,
            keep_alive_timeout: limits.keep_alive_timeout,
        };
        let stopping = stopping.clone();
        tokio::spawn(async move {
            connection.run(stream, stopping).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    Ok(())
}

struct Connection {
    endpoint: Arc<BoxEndpoint<'static, poem::Response>>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    local: SocketAddr,
    remote: SocketAddr,
    keep_alive_timeout: Duration,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut stopping: watch::Receiver<bool>) {
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let (endpoint, local, remote) = (self.endpoint, self.local, self.remote);
        let service = hyper::service::service_fn(move |request| {
            let endpoint = endpoint.clone();
            async move {
                let request = Request::from((
                    request,
                    LocalAddr(Addr::SocketAddr(local)),
                    RemoteAddr(Addr::SocketAddr(remote)),
                    Scheme::HTTP,
                ));
                let response: hyper::Response<BoxBody<Bytes, io::Error>> =
                    endpoint.get_response(request).await.into();
                Ok::<_, Infallible>(response)
            }
        });
        let connection = self.builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = activity.idle_for(self.keep_alive_timeout), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = stopping.wait_for(|stop| *stop), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// When a connection last read or wrote, as milliseconds since it opened.
#[derive(Clone)]
struct Activity {
    opened: Instant,
    last: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let now = self.opened.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    /// Resolves once the connection has seen no traffic for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let idle = self.opened.elapsed().saturating_sub(last);
            if idle >= timeout {
                return;
            }
            tokio::time::sleep(timeout - idle).await;
        }
    }
}

/// A stream that records its activity.
struct Tracked {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
