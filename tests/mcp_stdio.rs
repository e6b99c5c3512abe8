//! `dialtone mcp` speaks MCP over stdio against a real API: the test starts `dialtone serve` on a
//! loopback port with a fresh store, makes a key with `dialtone admin create-key`, spawns
//! `dialtone mcp --api-url ... --api-key ...` and exchanges JSON-RPC lines with it as an MCP client
//! does: initialize, notifications/initialized, tools/list, then tools/call of list_templates,
//! provision_agent and get_operation (polled until the agent is active), get_agent of that agent and of
//! a missing one (the API's NOT_FOUND mapped into a tool error), bad arguments, an unknown tool,
//! scout_research against a fixture website served on loopback, and an API that cannot be reached.

#![allow(clippy::unwrap_used)]

#[path = "../provisioning/tests/support/site_server.rs"]
mod site_server;

#[path = "mcp_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use site_server::SiteServer;
use support::{Server, TOOLS, create_key, temp_dir};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long one answer may take (a scout crawl of the fixture site included).
const ANSWER: Duration = Duration::from_secs(60);
/// How long provisioning from instructions may take to finish.
const PROVISIONED: Duration = Duration::from_secs(60);

/// An MCP client over a child's stdin/stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Client {
    fn spawn(api_url: &str, key: &str, log: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["mcp", "--api-url", api_url])
            // The key through the environment, as `claude mcp add -e` would pass it.
            .env("DIALTONE_API_KEY", key)
            .env("DIALTONE_CRAWL_ALLOW", "127.0.0.0/8")
            .env("RUST_LOG", "warn,dialtone=debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Client {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    async fn send(&mut self, message: &Value) {
        let mut line = serde_json::to_string(message).unwrap();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Sends a request and returns its response (skipping any notification the server sends).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        let read = async {
            loop {
                let line = self
                    .stdout
                    .next_line()
                    .await
                    .unwrap()
                    .expect("the server closed stdout");
                let message: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC: {e}: {line}"));
                assert_eq!(message["jsonrpc"], "2.0", "{message}");
                if message["id"] == json!(id) {
                    return message;
                }
            }
        };
        tokio::time::timeout(ANSWER, read)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"))
    }

    /// Calls a tool; its result (a JSON-RPC error fails the test).
    async fn call(&mut self, name: &str, arguments: Value) -> Value {
        let response = self
            .request("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        assert!(response.get("error").is_none(), "{name}: {response}");
        response["result"].clone()
    }
}

fn ok(result: &Value) -> &Value {
    assert_ne!(result["isError"], json!(true), "{result}");
    // The text content is the same JSON as the structured content.
    let text = result["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(text).unwrap(),
        result["structuredContent"]
    );
    &result["structuredContent"]
}

fn failed(result: &Value) -> &Value {
    assert_eq!(result["isError"], json!(true), "{result}");
    &result["structuredContent"]["error"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_provisions_and_reads_agents_over_stdio() {
    let data = temp_dir("mcp-stdio");
    let key = create_key(&data, "*");
    let server = Server::start(&data).await;
    let mut mcp = Client::spawn(&server.url, &key, &data.join("mcp.log"));

    let init = mcp
        .request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "mcp-stdio-test", "version": "1.0"}}),
        )
        .await;
    let result = &init["result"];
    assert_eq!(result["serverInfo"]["name"], "dialtone", "{init}");
    assert_eq!(result["protocolVersion"], "2025-06-18");
    assert!(result["capabilities"]["tools"].is_object(), "{init}");
    assert!(
        result["instructions"]
            .as_str()
            .unwrap()
            .contains("get_operation")
    );
    mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    // Every tool, each with an object schema; required arguments are marked required.
    let list = mcp.request("tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert!(!tool["description"].as_str().unwrap().is_empty());
    }
    let schema =
        |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["inputSchema"].clone();
    assert_eq!(schema("get_agent")["required"], json!(["agent_id"]));
    assert_eq!(
        schema("create_task")["required"],
        json!(["phone_number", "task"])
    );
    let provision = schema("provision_agent");
    for field in [
        "business_url",
        "template_id",
        "phone_number",
        "instructions",
        "idempotency_key",
    ] {
        assert!(
            provision["properties"][field].is_object(),
            "{field}: {provision}"
        );
    }
    let annotations =
        |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["annotations"].clone();
    assert_eq!(annotations("get_agent")["readOnlyHint"], true);
    assert_eq!(annotations("update_agent")["destructiveHint"], true);
    assert_eq!(annotations("provision_agent")["readOnlyHint"], false);

    // list_templates: the API's page, data and meta.
    let templates = mcp.call("list_templates", json!({})).await;
    let page = ok(&templates);
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"dental_receptionist"), "{ids:?}");
    assert_eq!(page["meta"]["total"], json!(ids.len()));

    // provision_agent answers at once with an operation; get_operation follows it to active.
    let accepted = mcp
        .call(
            "provision_agent",
            json!({"name": "Bright Smile Front Desk", "template_id": "dental_receptionist",
                "instructions": "Bright Smile Dental in Portland, open Monday to Friday 8am to 5pm.",
                "idempotency_key": "mcp-stdio-provision-1"}),
        )
        .await;
    let accepted = ok(&accepted).clone();
    let operation_id = accepted["operation_id"].as_str().unwrap().to_owned();
    let agent_id = accepted["agent_id"].as_str().unwrap().to_owned();
    assert!(operation_id.starts_with("op_"), "{accepted}");
    assert_eq!(accepted["status"], "pending");
    // The same idempotency key answers the same operation instead of provisioning twice.
    let again = mcp
        .call(
            "provision_agent",
            json!({"name": "Bright Smile Front Desk", "template_id": "dental_receptionist",
                "instructions": "Bright Smile Dental in Portland, open Monday to Friday 8am to 5pm.",
                "idempotency_key": "mcp-stdio-provision-1"}),
        )
        .await;
    assert_eq!(ok(&again)["operation_id"], json!(operation_id));

    let until = Instant::now() + PROVISIONED;
    let operation = loop {
        let op = mcp
            .call("get_operation", json!({"operation_id": operation_id}))
            .await;
        let op = ok(&op).clone();
        assert_eq!(op["operation_id"], json!(operation_id), "{op}");
        match op["status"].as_str().unwrap() {
            "active" | "failed" => break op,
            _ => {}
        }
        assert!(Instant::now() < until, "provisioning did not finish: {op}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(operation["status"], "active", "{operation}");
    assert_eq!(operation["agent_id"], json!(agent_id));

    let agent = mcp.call("get_agent", json!({"agent_id": agent_id})).await;
    let agent = ok(&agent);
    assert_eq!(agent["id"], json!(agent_id));
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["name"], "Bright Smile Front Desk");
    assert_eq!(agent["template_id"], "dental_receptionist");

    let agents = mcp.call("list_agents", json!({"status": "active"})).await;
    assert_eq!(ok(&agents)["meta"]["total"], 1);

    // A mission task for that agent, read back by id (no SIP here, so it waits, pending).
    let task = mcp
        .call(
            "create_task",
            json!({"phone_number": "+15035550199", "task": "Ask whether they open on Sunday",
                   "agent_id": agent_id, "metadata": {"ref": "mcp"}}),
        )
        .await;
    let task = ok(&task);
    assert_eq!(task["status"], "pending", "{task}");
    assert_eq!(task["task_number"], 1);
    let task_id = task["task_id"].as_str().unwrap().to_owned();
    let read = mcp.call("get_task", json!({"task_id": task_id})).await;
    let read = ok(&read);
    assert_eq!(read["task_id"], json!(task_id));
    assert_eq!(
        read["task_data"]["task"], "Ask whether they open on Sunday",
        "{read}"
    );
    let bad_task = mcp
        .call(
            "create_task",
            json!({"phone_number": "+15035550199", "task": "   "}),
        )
        .await;
    assert_eq!(failed(&bad_task)["code"], "VALIDATION_ERROR");

    // A missing agent: the API's 404 as a tool error with its code, message and retryable flag.
    let missing = mcp
        .call("get_agent", json!({"agent_id": "agt_does_not_exist"}))
        .await;
    assert_eq!(missing["structuredContent"]["status"], 404, "{missing}");
    let error = failed(&missing);
    assert_eq!(error["code"], "NOT_FOUND");
    assert_eq!(error["retryable"], false);
    // The resource is missing, not the route.
    assert_eq!(error["message"], "agent not found", "{error}");

    // The API's validation, mapped the same way (a bad E.164 number).
    let bad_number = mcp
        .call(
            "update_agent",
            json!({"agent_id": agent_id, "phone_number": "555-0100"}),
        )
        .await;
    let error = failed(&bad_number);
    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert_eq!(error["details"]["field"], "phone_number");

    // Arguments that do not fit the schema never reach the API.
    let no_id = mcp.call("get_agent", json!({})).await;
    let error = failed(&no_id);
    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert!(
        error["message"].as_str().unwrap().contains("agent_id"),
        "{error}"
    );
    let dots = mcp.call("get_agent", json!({"agent_id": ".."})).await;
    assert_eq!(failed(&dots)["code"], "VALIDATION_ERROR");
    let bad_key = mcp
        .call(
            "sync_knowledge_base",
            json!({"agent_id": agent_id, "idempotency_key": "line\nbreak"}),
        )
        .await;
    assert_eq!(failed(&bad_key)["code"], "VALIDATION_ERROR");

    // An unknown tool is a protocol error, not a tool result.
    let unknown = mcp
        .request(
            "tools/call",
            json!({"name": "drop_tables", "arguments": {}}),
        )
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    // scout_research reads a website without creating anything.
    let site = SiteServer::start(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("provisioning/tests/fixtures/sites/dental-bright-smile"),
    )
    .await
    .unwrap();
    let scouted = mcp
        .call("scout_research", json!({"business_url": site.url("/")}))
        .await;
    let found = ok(&scouted);
    assert_eq!(
        found["facts"]["business_name"], "Bright Smile Dental",
        "{found}"
    );
    assert_eq!(found["facts"]["phones"][0], "+15035550142");
    assert_eq!(found["template_id"], "dental_receptionist");
    assert!(found["knowledge"]["chunks"].as_u64().unwrap() > 0);
    let agents = mcp.call("list_agents", json!({})).await;
    assert_eq!(ok(&agents)["meta"]["total"], 1, "scouting creates no agent");
    let bad_url = mcp
        .call(
            "scout_research",
            json!({"business_url": "ftp://example.com"}),
        )
        .await;
    assert_eq!(failed(&bad_url)["code"], "invalid_url");

    // Closing stdin ends the server.
    drop(mcp.stdin);
    let status = tokio::time::timeout(ANSWER, mcp.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");

    // An API that cannot be reached: a retryable UNAVAILABLE, and the server keeps answering.
    let mut down = Client::spawn("http://127.0.0.1:9", &key, &data.join("mcp-down.log"));
    down.request(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "mcp-stdio-test", "version": "1.0"}}),
    )
    .await;
    down.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    let unreachable = down.call("get_agent", json!({"agent_id": agent_id})).await;
    let error = failed(&unreachable);
    assert_eq!(error["code"], "UNAVAILABLE", "{unreachable}");
    assert_eq!(error["retryable"], true);
    let list = down.request("tools/list", json!({})).await;
    assert_eq!(
        list["result"]["tools"].as_array().unwrap().len(),
        TOOLS.len()
    );

    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}
