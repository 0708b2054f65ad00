//! The standard services next to jobbridge's own: gRPC health checking and
//! server reflection (v1 and v1alpha), as grpcurl and load balancers use
//! them: both without a token.

use crate::common::TestServer;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const SERVICES: [&str; 3] = [
    "jobbridge.v1.Workers",
    "jobbridge.v1.Openings",
    "grpc.health.v1.Health",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    // Health needs no credentials: load balancers probe it.
    let mut health = HealthClient::new(server.raw.clone());

    for service in ["", "jobbridge.v1.Workers", "jobbridge.v1.Openings"] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("check {service:?}: {e}"))
            .into_inner();
        assert_eq!(
            reply.status,
            ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }

    // Unknown services are NOT_FOUND, as the health protocol says.
    let e = health
        .check(HealthCheckRequest {
            service: "jobbridge.v1.Nothing".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e}");

    // Watch sends the current status first.
    let mut stream = health
        .watch(HealthCheckRequest {
            service: "jobbridge.v1.Workers".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().expect("a first status");
    assert_eq!(first.status, ServingStatus::Serving as i32);
    drop(stream);
    server.stop().await;
}

/// Reflection tests for one protocol version; `v1` and `v1alpha` have the
/// same messages in different packages, so one body serves both.
macro_rules! reflection_tests {
    ($version:ident) => {
        mod $version {
            use std::collections::{BTreeMap, BTreeSet};

            use crate::common::Channel;
            use prost::Message as _;
            use prost_types::FileDescriptorProto;
            use tonic::{Code, Status};
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            use tonic_reflection::pb::$version::ServerReflectionRequest;

            use super::SERVICES;
            use crate::common::TestServer;

            type Client = ServerReflectionClient<Channel>;

            /// Sends all `requests` on one stream and returns the replies.
            async fn ask_all(
                client: &mut Client,
                requests: Vec<MessageRequest>,
            ) -> Result<Vec<MessageResponse>, Status> {
                let requests: Vec<ServerReflectionRequest> = requests
                    .into_iter()
                    .map(|r| ServerReflectionRequest {
                        host: String::new(),
                        message_request: Some(r),
                    })
                    .collect();
                let mut stream = client
                    .server_reflection_info(tokio_stream::iter(requests))
                    .await?
                    .into_inner();
                let mut replies = Vec::new();
                while let Some(reply) = stream.message().await? {
                    replies.push(reply.message_response.expect("a response"));
                }
                Ok(replies)
            }

            /// One request on its own stream. An `ErrorResponse` becomes a
            /// status, so that both ways of refusing read the same.
            async fn ask(
                client: &mut Client,
                request: MessageRequest,
            ) -> Result<MessageResponse, Status> {
                let mut replies = ask_all(client, vec![request]).await?;
                assert_eq!(replies.len(), 1);
                match replies.pop().unwrap() {
                    MessageResponse::ErrorResponse(e) => {
                        Err(Status::new(Code::from(e.error_code), e.error_message))
                    }
                    other => Ok(other),
                }
            }

            fn files_of(reply: MessageResponse) -> Vec<FileDescriptorProto> {
                let MessageResponse::FileDescriptorResponse(files) = reply else {
                    panic!("expected files, got {reply:?}");
                };
                files
                    .file_descriptor_proto
                    .iter()
                    .map(|b| FileDescriptorProto::decode(b.as_slice()).expect("descriptor decodes"))
                    .collect()
            }

            /// The file declaring `symbol` and every file it imports,
            /// fetched the way grpcurl does (file_by_filename for each
            /// dependency not yet seen), by name.
            async fn resolve(
                client: &mut Client,
                symbol: &str,
            ) -> (String, BTreeMap<String, FileDescriptorProto>) {
                let reply = ask(client, MessageRequest::FileContainingSymbol(symbol.into()))
                    .await
                    .unwrap_or_else(|e| panic!("file containing {symbol}: {e}"));
                let files = files_of(reply);
                let declaring = files[0].name().to_string();
                let mut known: BTreeMap<String, FileDescriptorProto> = files
                    .into_iter()
                    .map(|f| (f.name().to_string(), f))
                    .collect();
                loop {
                    let missing: BTreeSet<String> = known
                        .values()
                        .flat_map(|f| f.dependency.iter().cloned())
                        .filter(|d| !known.contains_key(d))
                        .collect();
                    if missing.is_empty() {
                        return (declaring, known);
                    }
                    for name in missing {
                        let reply = ask(client, MessageRequest::FileByFilename(name.clone()))
                            .await
                            .unwrap_or_else(|e| {
                                panic!("{symbol}: dependency {name} cannot be fetched: {e}")
                            });
                        for f in files_of(reply) {
                            known.insert(f.name().to_string(), f);
                        }
                        assert!(known.contains_key(&name), "{name} not returned by name");
                    }
                }
            }

            /// Every fully qualified message name defined in `files`.
            fn message_names(files: &BTreeMap<String, FileDescriptorProto>) -> BTreeSet<String> {
                files
                    .values()
                    .flat_map(|f| {
                        f.message_type
                            .iter()
                            .map(move |m| format!(".{}.{}", f.package(), m.name()))
                    })
                    .collect()
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lists_and_describes_the_services() {
                let dir = tempfile::tempdir().unwrap();
                let server = TestServer::start(dir.path()).await;
                // No token: grpcurl and probes resolve methods through
                // reflection before they call anything.
                let mut client = ServerReflectionClient::new(server.channel_with(None));

                // list_services and file_containing_symbol on one stream.
                let replies = ask_all(
                    &mut client,
                    vec![
                        MessageRequest::ListServices(String::new()),
                        MessageRequest::FileContainingSymbol("jobbridge.v1.Workers".into()),
                    ],
                )
                .await
                .expect("reflection call");
                assert_eq!(replies.len(), 2);
                let MessageResponse::ListServicesResponse(list) = &replies[0] else {
                    panic!("list_services answered with {:?}", replies[0]);
                };
                let listed: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
                for service in SERVICES {
                    assert!(listed.contains(&service), "{service} not in {listed:?}");
                }
                let files = files_of(replies[1].clone());
                let workers = files
                    .iter()
                    .find(|f| f.name() == "jobbridge/v1/workers.proto")
                    .expect("workers.proto returned for jobbridge.v1.Workers");
                assert_eq!(workers.package(), "jobbridge.v1");
                let service = workers
                    .service
                    .iter()
                    .find(|s| s.name() == "Workers")
                    .expect("Workers declared in workers.proto");
                let methods: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
                for m in [
                    "CreateWorker",
                    "UpsertWorker",
                    "GetWorker",
                    "DeleteWorker",
                    "ListWorkers",
                    "ImportWorkers",
                    "GetHousehold",
                ] {
                    assert!(methods.contains(&m), "method {m} missing from {methods:?}");
                }
                let import = service
                    .method
                    .iter()
                    .find(|m| m.name() == "ImportWorkers")
                    .unwrap();
                assert!(import.client_streaming() && !import.server_streaming());

                // Each service resolves completely: its file, every import,
                // and every request and reply type of its methods.
                // (tonic-health names its file "health.proto", not by its
                // package path, so only jobbridge's file names are pinned.)
                for (symbol, expected_file) in [
                    ("jobbridge.v1.Workers", Some("jobbridge/v1/workers.proto")),
                    ("jobbridge.v1.Openings", Some("jobbridge/v1/openings.proto")),
                    ("grpc.health.v1.Health", None),
                ] {
                    let (file, files) = resolve(&mut client, symbol).await;
                    if let Some(expected) = expected_file {
                        assert_eq!(file, expected, "{symbol}");
                    }
                    let (package, name) = symbol.rsplit_once('.').unwrap();
                    assert_eq!(files[&file].package(), package, "{symbol}");
                    let service = files[&file]
                        .service
                        .iter()
                        .find(|s| s.name() == name)
                        .unwrap_or_else(|| panic!("{symbol} not declared in {file}"));
                    let defined = message_names(&files);
                    for m in &service.method {
                        for ty in [m.input_type(), m.output_type()] {
                            assert!(
                                defined.contains(ty),
                                "{symbol}.{}: type {ty} not resolvable",
                                m.name()
                            );
                        }
                    }
                    if symbol.starts_with("jobbridge") {
                        assert!(
                            files.contains_key("google/protobuf/timestamp.proto"),
                            "{symbol}"
                        );
                        assert!(files.contains_key("jobbridge/v1/common.proto"), "{symbol}");
                    }
                }

                // Unknown symbols are NOT_FOUND.
                let e = ask(
                    &mut client,
                    MessageRequest::FileContainingSymbol("jobbridge.v1.NoSuchThing".into()),
                )
                .await
                .unwrap_err();
                assert_eq!(e.code(), Code::NotFound, "{e}");

                // The reflection stream broke nothing: the API still answers.
                let mut workers = server.workers();
                let e = workers
                    .get_worker(jobbridge::api::pb::GetWorkerRequest { id: "w-1".into() })
                    .await
                    .unwrap_err();
                assert_eq!(e.code(), Code::NotFound);
                server.stop().await;
            }
        }
    };
}

reflection_tests!(v1);
reflection_tests!(v1alpha);

/// What grpcurl does for `grpcurl -plaintext -d '{"service":"..."}' ADDR
/// grpc.health.v1.Health/Check`: resolve the method through reflection,
/// then call it; all without a token. A data call without one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_style_health_check_needs_no_token_but_data_calls_do() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let anonymous = server.channel_with(None);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "grpc.health.v1.Health".into(),
        )),
    };
    let mut replies = ServerReflectionClient::new(anonymous.clone())
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection without a token")
        .into_inner();
    let reply = replies.message().await.unwrap().expect("a reply");
    assert!(
        matches!(
            reply.message_response,
            Some(MessageResponse::FileDescriptorResponse(_))
        ),
        "{reply:?}"
    );
    let status = HealthClient::new(anonymous.clone())
        .check(HealthCheckRequest {
            service: "jobbridge.v1.Workers".into(),
        })
        .await
        .expect("health without a token")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    let e = jobbridge::api::pb::workers_client::WorkersClient::new(anonymous)
        .get_worker(jobbridge::api::pb::GetWorkerRequest { id: "w-1".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    server.stop().await;
}

/// A shutdown turns health NOT_SERVING at once, for every service, before
/// the server stops; a call open past the grace period is cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_says_not_serving_then_cuts_streams_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let options = jobbridge::config::Config {
        shutdown_grace: std::time::Duration::from_millis(300),
        ..jobbridge::config::Config::in_process()
    };
    let server = TestServer::start_with(dir.path(), options).await;
    let mut watches = Vec::new();
    for service in ["", "jobbridge.v1.Workers", "jobbridge.v1.PlacementService"] {
        let mut watch = HealthClient::new(server.raw.clone())
            .watch(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let first = watch.message().await.unwrap().unwrap();
        assert_eq!(first.status, ServingStatus::Serving as i32, "{service:?}");
        watches.push((service, watch));
    }
    let stopping = tokio::spawn(server.stop());
    for (service, watch) in &mut watches {
        let next = watch.message().await.unwrap().expect("a status");
        assert_eq!(next.status, ServingStatus::NotServing as i32, "{service:?}");
    }
    // The watch streams stay open: the grace period's end cuts them.
    for (service, watch) in &mut watches {
        let e = watch.message().await.expect_err("cut");
        assert_eq!(e.code(), Code::Unavailable, "{service:?}: {e:?}");
    }
    stopping.await.unwrap();
}
