//! The push service's HTTP/2 connections to FCM and APNs, as a Node addon.
//!
//! Node's own HTTP/2 client costs 85–140 µs of CPU per request on the machines Chorus is
//! measured on, which caps one push process far below a million pushes a minute. Here each
//! provider origin is one HTTP/2 connection driven by the `h2` crate on a small tokio runtime
//! of its own (TLS by rustls): the JavaScript side hands over a request (one call) and gets the
//! answer back through one thread-safe function shared by all requests of the origin, so the
//! protocol work runs off the event loop and costs a fraction of node:http2's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::client::SendRequest;
use http::uri::{Authority, Scheme};
use http::{Method, Request, Uri};
use napi::threadsafe_function::{
    ErrorStrategy, ThreadSafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Error, JsFunction, JsObject, Result, Status};
use napi_derive::napi;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// One runtime per process, shared by every origin; its size is fixed by the first origin made.
fn runtime(threads: u32) -> &'static tokio::runtime::Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1) as usize)
            .thread_name("chorus-push-h2")
            .enable_all()
            .build()
            .expect("the push HTTP/2 runtime could not start")
    })
}

/// What one request came to: the answer, or why there is none.
struct Completion {
    id: u32,
    outcome: std::result::Result<Answer, String>,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

enum Transport {
    Cleartext,
    Tls(tokio_rustls::TlsConnector, ServerName<'static>),
}

/// The connection in use, and whether its driver still runs.
struct Live {
    sender: SendRequest<Bytes>,
    alive: Arc<AtomicBool>,
    driver: JoinHandle<()>,
}

struct Origin {
    host: String,
    port: u16,
    scheme: Scheme,
    authority: Authority,
    transport: Transport,
    timeout: Duration,
    live: Mutex<Option<Live>>,
    outbox: Arc<Outbox>,
    wake: ThreadsafeFunction<Arc<Outbox>, ErrorStrategy::Fatal>,
}

/// Why a request's stream was not opened: no connection could be made (the rest of its batch
/// fails the same way), or this stream failed (the next one tries the connection again).
enum StreamError {
    Connect(String),
    Stream(String),
}

fn describe(err: impl std::fmt::Display) -> String {
    err.to_string()
}

impl Origin {
    fn finish(&self, completion: Completion) {
        let mut outbox = self.outbox.lock().unwrap();
        let first = outbox.is_empty();
        outbox.push(completion);
        drop(outbox);
        if first {
            self.wake.call(self.outbox.clone(), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    fn timed_out(&self) -> String {
        format!("no answer from {} within {} ms", self.authority, self.timeout.as_millis())
    }

    /// Opens the streams of one batch in a row, so that the connection writes them out in one
    /// go when this task yields (a task per request would wake the connection, and write, once
    /// per request), then leaves each answer to a task of its own.
    async fn start_batch(self: Arc<Self>, batch: String) {
        // The batch was handed over at once: its requests share one deadline, so a batch held
        // up (a full connection, a slow connect) cannot push later requests' deadlines out.
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut connection: Option<(SendRequest<Bytes>, Arc<AtomicBool>)> = None;
        // Once connecting failed, the rest of the batch fails with the same reason rather than
        // trying again per request.
        let mut unreachable: Option<String> = None;
        for record in batch.split('\u{1}').filter(|r| !r.is_empty()) {
            let (id, method, path, headers, body) = match parse_request(record) {
                Ok(request) => request,
                Err(reason) => {
                    if let Some(Ok(id)) = record.split('\0').next().map(str::parse::<u32>) {
                        self.finish(Completion { id, outcome: Err(reason) });
                    }
                    continue;
                }
            };
            if let Some(reason) = &unreachable {
                self.finish(Completion { id, outcome: Err(reason.clone()) });
                continue;
            }
            let opened =
                tokio::time::timeout_at(deadline, self.open_stream(&mut connection, method, path, headers, body)).await;
            match opened {
                Ok(Ok(response)) => {
                    tokio::spawn(self.clone().await_answer(id, deadline, response));
                }
                Ok(Err(StreamError::Connect(reason))) => {
                    unreachable = Some(reason.clone());
                    self.finish(Completion { id, outcome: Err(reason) });
                }
                Ok(Err(StreamError::Stream(reason))) => {
                    connection = None;
                    self.finish(Completion { id, outcome: Err(reason) });
                }
                Err(_) => {
                    unreachable = Some(self.timed_out());
                    self.finish(Completion { id, outcome: Err(self.timed_out()) });
                }
            }
        }
    }

    async fn open_stream(
        &self,
        connection: &mut Option<(SendRequest<Bytes>, Arc<AtomicBool>)>,
        method: Method,
        path: String,
        headers: Vec<String>,
        body: Bytes,
    ) -> std::result::Result<h2::client::ResponseFuture, StreamError> {
        if connection.as_ref().map_or(true, |(_, alive)| !alive.load(Ordering::Acquire)) {
            *connection = Some(self.sender().await.map_err(StreamError::Connect)?);
        }
        let (sender, alive) = connection.as_mut().unwrap();
        // Waits only when the server's limit of concurrent streams is reached.
        std::future::poll_fn(|cx| sender.poll_ready(cx)).await.map_err(|e| {
            alive.store(false, Ordering::Release);
            StreamError::Stream(describe(e))
        })?;
        let uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|e| StreamError::Stream(format!(":path: {e}")))?;
        let mut request = Request::builder().method(method).uri(uri);
        for pair in headers.chunks_exact(2) {
            request = request.header(pair[0].as_str(), pair[1].as_str());
        }
        let request = request.body(()).map_err(|e| StreamError::Stream(format!("request headers: {e}")))?;
        let end_of_stream = body.is_empty();
        let (response, mut stream) = sender.send_request(request, end_of_stream).map_err(|e| {
            // A refused new stream means the connection is going away: the next request reconnects.
            alive.store(false, Ordering::Release);
            StreamError::Stream(describe(e))
        })?;
        if !end_of_stream {
            stream.send_data(body, true).map_err(|e| StreamError::Stream(describe(e)))?;
        }
        Ok(response)
    }

    async fn await_answer(self: Arc<Self>, id: u32, deadline: tokio::time::Instant, response: h2::client::ResponseFuture) {
        let outcome = match tokio::time::timeout_at(deadline, read_answer(response)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(self.timed_out()),
        };
        self.finish(Completion { id, outcome });
    }

    /// The live connection, made anew when there is none or the last one ended (GOAWAY, error).
    async fn sender(&self) -> std::result::Result<(SendRequest<Bytes>, Arc<AtomicBool>), String> {
        let mut live = self.live.lock().await;
        if let Some(current) = live.as_ref() {
            if current.alive.load(Ordering::Acquire) {
                return Ok((current.sender.clone(), current.alive.clone()));
            }
        }
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("connect to {}: {e}", self.authority))?;
        let _ = tcp.set_nodelay(true);
        let alive = Arc::new(AtomicBool::new(true));
        let (sender, driver) = match &self.transport {
            Transport::Cleartext => drive(tcp, alive.clone()).await?,
            Transport::Tls(connector, name) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| format!("TLS with {}: {e}", self.authority))?;
                if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                    return Err(format!("{} did not agree to HTTP/2 (ALPN)", self.authority));
                }
                drive(tls, alive.clone()).await?
            }
        };
        if let Some(old) = live.replace(Live { sender: sender.clone(), alive: alive.clone(), driver }) {
            old.driver.abort();
        }
        Ok((sender, alive))
    }
}

async fn read_answer(response: h2::client::ResponseFuture) -> std::result::Result<Answer, String> {
    let response = response.await.map_err(describe)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let mut incoming = response.into_body();
    let mut received = BytesMut::new();
    while let Some(chunk) = incoming.data().await {
        let chunk = chunk.map_err(describe)?;
        let _ = incoming.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
    }
    Ok(Answer { status, headers, body: received.freeze() })
}

/// Handshakes HTTP/2 over `io` and runs the connection in a task of its own.
async fn drive<T>(io: T, alive: Arc<AtomicBool>) -> std::result::Result<(SendRequest<Bytes>, JoinHandle<()>), String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = h2::client::Builder::new()
        .initial_window_size(1 << 20)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|e| format!("HTTP/2 handshake: {e}"))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
        alive.store(false, Ordering::Release);
    });
    Ok((sender, driver))
}

fn tls_connector(ca: Option<Vec<String>>) -> Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        // As with Node's `ca`: the list given replaces the default roots.
        Some(pems) => {
            for pem in pems {
                for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                    let cert = cert.map_err(|e| Error::new(Status::InvalidArg, format!("ca: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| Error::new(Status::InvalidArg, format!("ca: {e}")))?;
                }
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::from_reason(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Answers gathered since the event loop last took them: the thread-safe function is called
/// only when the first one arrives, and the call takes all that came meanwhile.
type Outbox = std::sync::Mutex<Vec<Completion>>;

fn take_answers(ctx: ThreadSafeCallContext<Arc<Outbox>>) -> Result<Vec<JsObject>> {
    let env = ctx.env;
    let answers = std::mem::take(&mut *ctx.value.lock().unwrap());
    let mut flat = env.create_array_with_length(answers.len() * 4)?;
    for (i, completion) in answers.into_iter().enumerate() {
        let at = (i * 4) as u32;
        flat.set_element(at, env.create_uint32(completion.id)?)?;
        match completion.outcome {
            Ok(answer) => {
                let mut head = String::new();
                for (name, value) in &answer.headers {
                    head.push_str(name);
                    head.push_str(": ");
                    head.push_str(value);
                    head.push_str("\r\n");
                }
                flat.set_element(at + 1, env.create_uint32(answer.status as u32)?)?;
                flat.set_element(at + 2, env.create_string(&head)?)?;
                flat.set_element(at + 3, env.create_string(&String::from_utf8_lossy(&answer.body))?)?;
            }
            Err(reason) => {
                flat.set_element(at + 1, env.create_uint32(0)?)?;
                flat.set_element(at + 2, env.create_string("")?)?;
                flat.set_element(at + 3, env.create_string(&reason)?)?;
            }
        }
    }
    Ok(vec![flat])
}

/// One request of a submitted batch: `id NUL method NUL path NUL count NUL (name NUL value NUL){count} body`.
fn parse_request(record: &str) -> std::result::Result<(u32, Method, String, Vec<String>, Bytes), String> {
    let mut fields = record.splitn(5, '\0');
    let mut next = |what: &str| fields.next().ok_or_else(|| format!("request record: no {what}"));
    let id: u32 = next("id")?.parse().map_err(|_| "request record: bad id".to_owned())?;
    let method = Method::from_bytes(next(":method")?.as_bytes()).map_err(|e| format!(":method: {e}"))?;
    let path = next(":path")?.to_owned();
    let count: usize = next("header count")?.parse().map_err(|_| "request record: bad header count".to_owned())?;
    let rest = next("headers")?;
    let mut parts = rest.splitn(2 * count + 1, '\0');
    let headers: Vec<String> = parts.by_ref().take(2 * count).map(str::to_owned).collect();
    if headers.len() != 2 * count {
        return Err("request record: headers cut short".to_owned());
    }
    let body = Bytes::copy_from_slice(parts.next().unwrap_or("").as_bytes());
    Ok((id, method, path, headers, body))
}

/// One provider origin (`https://fcm.googleapis.com`, or `http://` for h2c): requests are
/// streams on one connection. Answers reach `onAnswers([id, status, head, body, ...])` in
/// batches, `head` as `name: value` lines; a failed request has status 0 and its reason as body.
#[napi]
pub struct NativeHttp2Origin {
    origin: Arc<Origin>,
    runtime: &'static tokio::runtime::Runtime,
}

#[napi]
impl NativeHttp2Origin {
    #[napi(constructor)]
    pub fn new(
        env: Env,
        origin: String,
        timeout_ms: u32,
        ca: Option<Vec<String>>,
        threads: u32,
        on_answers: JsFunction,
    ) -> Result<Self> {
        let uri: Uri = origin
            .parse()
            .map_err(|e| Error::new(Status::InvalidArg, format!("origin {origin:?}: {e}")))?;
        let scheme = uri.scheme().cloned().unwrap_or(Scheme::HTTPS);
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| Error::new(Status::InvalidArg, format!("origin {origin:?}: no host")))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls = scheme == Scheme::HTTPS;
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let transport = if tls {
            let name = ServerName::try_from(host.clone())
                .map_err(|e| Error::new(Status::InvalidArg, format!("origin {origin:?}: {e}")))?;
            Transport::Tls(tls_connector(ca)?, name)
        } else if scheme == Scheme::HTTP {
            Transport::Cleartext
        } else {
            return Err(Error::new(Status::InvalidArg, format!("origin {origin:?}: http or https only")));
        };
        let outbox: Arc<Outbox> = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut wake: ThreadsafeFunction<Arc<Outbox>, ErrorStrategy::Fatal> =
            on_answers.create_threadsafe_function(0, take_answers)?;
        // Pending answers do not keep the process alive; the service's shutdown drains them.
        wake.unref(&env)?;
        Ok(Self {
            origin: Arc::new(Origin {
                host,
                port,
                scheme,
                authority,
                transport,
                timeout: Duration::from_millis(timeout_ms.max(1) as u64),
                live: Mutex::new(None),
                outbox,
                wake,
            }),
            runtime: runtime(threads),
        })
    }

    /// Starts the requests of one batch (records separated by U+0001, see `parse_request`);
    /// their answers come to `onAnswers` by id. A record that cannot be read is answered as a
    /// failure when it has an id, else the whole batch is refused.
    #[napi]
    pub fn submit(&self, batch: String) -> Result<()> {
        // One hand-over per batch.
        self.runtime.spawn(self.origin.clone().start_batch(batch));
        Ok(())
    }

    /// Drops the connection; requests still on it fail. A later request connects again.
    #[napi]
    pub fn close(&self) {
        let origin = self.origin.clone();
        self.runtime.spawn(async move {
            if let Some(live) = origin.live.lock().await.take() {
                live.driver.abort();
            }
        });
    }
}
