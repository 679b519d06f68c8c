// The Node.js baseline of `zaspot bench`: a plain central system on ocpp-rpc.
//
// What a performance-minded operator would write instead of zaspot: strict schema
// validation of every request and response (ocpp-rpc's own OCPP 1.6 and 2.0.1
// schemas), fixed answers, nothing stored, no logging per message.
//
//     node server.js --host 127.0.0.1 --port 9300   # prints "ready ..." when listening
'use strict';

const { RPCServer } = require('ocpp-rpc');

function arg(name, fallback) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '9300'));
const now = () => new Date().toISOString();

// Every CALL the bench's scenarios send; any other gets ocpp-rpc's NotImplemented.
const HANDLERS = {
    BootNotification: () => ({ status: 'Accepted', interval: 300, currentTime: now() }),
    Heartbeat: () => ({ currentTime: now() }),
    MeterValues: () => ({}),
    StatusNotification: () => ({}),
    TransactionEvent: () => ({}),   // 2.0.1
    NotifyEvent: () => ({}),        // 2.0.1
    NotifyReport: () => ({}),       // 2.0.1
};

const server = new RPCServer({ protocols: ['ocpp2.0.1', 'ocpp1.6'], strictMode: true });

// A bad load shows in the log once, not once per message.
let invalid = 0;

server.on('client', (client) => {
    for (const [method, handler] of Object.entries(HANDLERS)) {
        client.handle(method, handler);
    }
    client.on('strictValidationFailure', ({ error }) => {
        if (invalid++ === 0) {
            console.log(`strict validation failed (first of any): ${error && error.message}`);
        }
    });
    client.on('error', () => {});   // a station that drops its socket is not our failure
});

server.listen(port, host).then(() => {
    console.log(`ready node-ocpp-rpc ws://${host}:${port}/ocpp`);
}, (err) => {
    console.error(`cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
});

// The bench stops its servers with SIGTERM; leave without a stack trace.
process.on('SIGTERM', () => process.exit(0));
