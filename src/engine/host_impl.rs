//! The host side of the `isola:sandbox/host` interface: what guest imports do.

use wasmtime::component::Resource;
use wasmtime_wasi::p2::{DynPollable, subscribe};

use super::{
    bindings::isola::sandbox::{
        host::{
            self, EmitKind, HttpRequest as WitHttpRequest, HttpResponse as WitHttpResponse,
            OutputChannel,
        },
        types::{self, StreamNext},
    },
    instance::GuestExit,
    relay::Deferred,
    state::InstanceState,
    streams::{ChunkStream, HostcallFuture, HttpFuture},
};
use crate::{
    host::{HttpRequest, HttpResponse},
    value::Value,
};

impl types::Host for InstanceState {}

impl InstanceState {
    /// Check a value the guest sends, an item or the call's result
    /// (`is_final`), emitted or returned by an export, and say what the
    /// driver is to deliver. `Err` is the text the guest receives; the
    /// refusal is recorded (an output limit in the budget, a broken
    /// protocol in the call state), so the call fails with it whatever the
    /// guest does next.
    pub(crate) fn accept_value(
        &mut self,
        is_final: bool,
        value: Vec<u8>,
    ) -> Result<Deferred, String> {
        self.charge_output(value.len(), true)?;
        // The guest runtime is as untrusted as user code: check what it
        // sends before any sink sees it.
        let value = Value::from_cbor(value)
            .map_err(|e| self.violation(format!("the guest sent an invalid value: {e}")))?;
        if self.call.result_emitted {
            return Err(self.violation(if is_final {
                "the guest sent a second result for one call".into()
            } else {
                "the guest sent an item after the call's result".into()
            }));
        }
        if is_final {
            self.call.result_emitted = true;
            Ok(Deferred::Result(value))
        } else {
            Ok(Deferred::Item(value))
        }
    }
}

impl host::Host for InstanceState {
    async fn emit(
        &mut self,
        kind: EmitKind,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), String>> {
        match self.accept_value(matches!(kind, EmitKind::Final), value) {
            Ok(work) => {
                self.relay.hand_over(work).await;
                Ok(Ok(()))
            }
            Err(message) => Ok(Err(message)),
        }
    }

    async fn emit_output(
        &mut self,
        channel: OutputChannel,
        text: String,
    ) -> wasmtime::Result<Result<(), String>> {
        if let Err(message) = self.charge_output(text.len(), false) {
            return Ok(Err(message));
        }
        let work = match channel {
            OutputChannel::Stdout => Deferred::Stdout(text),
            OutputChannel::Stderr => Deferred::Stderr(text),
        };
        self.relay.hand_over(work).await;
        Ok(Ok(()))
    }

    async fn emit_log(
        &mut self,
        level: u32,
        logger: String,
        message: String,
    ) -> wasmtime::Result<Result<(), String>> {
        if let Err(limit) = self.charge_output(logger.len() + message.len(), false) {
            return Ok(Err(limit));
        }
        self.relay
            .hand_over(Deferred::Log(log_level(level), logger, message))
            .await;
        Ok(Ok(()))
    }

    async fn stat_fs(&mut self, path: String) -> wasmtime::Result<Option<host::FsStats>> {
        Ok(self.vfs.fs_usage(&path).map(|u| host::FsStats {
            max_bytes: u.max_bytes,
            used_bytes: u.used_bytes,
            max_files: u.max_files,
            used_files: u.used_files,
            read_only: u.read_only,
        }))
    }

    async fn exit(&mut self, status: i32) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(GuestExit(status)))
    }

    async fn hostcall(
        &mut self,
        name: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Resource<HostcallFuture>> {
        if let Err(message) = self.start_host_call() {
            return Ok(self.table.push(HostcallFuture::failed(message))?);
        }
        self.call.host_calls = self.call.host_calls.saturating_add(1);
        let host = self.host.clone();
        let answer = HostcallFuture::start(&self.relay, async move {
            let payload = Value::from_cbor(payload).map_err(|e| e.to_string())?;
            host.hostcall(&name, payload)
                .await
                .map(Value::into_cbor)
                .map_err(|e| e.to_string())
        })
        .await;
        Ok(self.table.push(answer)?)
    }

    async fn http_fetch(
        &mut self,
        request: WitHttpRequest,
    ) -> wasmtime::Result<Resource<HttpFuture>> {
        if let Err(message) = self.start_host_call() {
            return Ok(self.table.push(HttpFuture::failed(message))?);
        }
        self.call.host_calls = self.call.host_calls.saturating_add(1);
        let host = self.host.clone();
        let request = HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let answer = HttpFuture::start(&self.relay, async move {
            host.http_request(request).await.map_err(|e| e.to_string())
        })
        .await;
        Ok(self.table.push(answer)?)
    }
}

impl host::HostValueIterator for InstanceState {
    async fn subscribe(
        &mut self,
        this: Resource<ChunkStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn try_next(&mut self, this: Resource<ChunkStream>) -> wasmtime::Result<StreamNext> {
        Ok(self.table.get_mut(&this)?.try_next())
    }

    async fn drop(&mut self, this: Resource<ChunkStream>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl host::HostHostcallFuture for InstanceState {
    async fn subscribe(
        &mut self,
        this: Resource<HostcallFuture>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn get(
        &mut self,
        this: Resource<HostcallFuture>,
    ) -> wasmtime::Result<Option<Result<Vec<u8>, String>>> {
        Ok(self.table.get_mut(&this)?.take())
    }

    async fn drop(&mut self, this: Resource<HostcallFuture>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        self.pending_host_calls = self.pending_host_calls.saturating_sub(1);
        Ok(())
    }
}

impl host::HostHttpFuture for InstanceState {
    async fn subscribe(
        &mut self,
        this: Resource<HttpFuture>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        subscribe(&mut self.table, this)
    }

    async fn get(
        &mut self,
        this: Resource<HttpFuture>,
    ) -> wasmtime::Result<Option<Result<WitHttpResponse, String>>> {
        let Some(answer) = self.table.get_mut(&this)?.take() else {
            return Ok(None);
        };
        let response = match answer {
            Ok(response) => response,
            Err(message) => return Ok(Some(Err(message))),
        };
        let HttpResponse {
            status,
            headers,
            body,
        } = response;
        let max_body = self.output.limits().max_value_bytes;
        let body = self
            .table
            .push(ChunkStream::new(capped_body(body, max_body)))?;
        Ok(Some(Ok(WitHttpResponse {
            status,
            headers,
            body,
        })))
    }

    async fn drop(&mut self, this: Resource<HttpFuture>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        self.pending_host_calls = self.pending_host_calls.saturating_sub(1);
        Ok(())
    }
}

/// The standard Python level at or below `level` (0 NOTSET, 10 DEBUG, 20
/// INFO, 30 WARNING, 40 ERROR, 50 CRITICAL): sinks only ever see these.
fn log_level(level: u32) -> u32 {
    level.min(50) / 10 * 10
}

/// Turn a host body into guest chunks, failing the stream once the body
/// grows past `max_bytes`.
fn capped_body(
    body: crate::host::BodyStream,
    max_bytes: usize,
) -> impl futures::Stream<Item = Result<Vec<u8>, String>> + Send + 'static {
    use futures::StreamExt;
    let mut seen = 0usize;
    let mut failed = false;
    body.map(move |chunk| match chunk {
        Ok(bytes) => {
            seen = seen.saturating_add(bytes.len());
            if seen > max_bytes {
                Err(format!(
                    "HTTP response body exceeds the limit of {max_bytes} bytes"
                ))
            } else {
                Ok(bytes)
            }
        }
        Err(e) => Err(e.to_string()),
    })
    .take_while(move |item| {
        let keep = !failed;
        failed |= item.is_err();
        futures::future::ready(keep)
    })
}
