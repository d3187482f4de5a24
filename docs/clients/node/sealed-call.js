#!/usr/bin/env node
// A sealed call to the Chèque-Vacances Connect Kit API (ancv-sandbox or ANCV's platform),
// with nothing but Node's own modules (crypto, fetch: Node 18+).
//
//   node sealed-call.js <baseUrl> <shopId> <keyVersion> <key>
//       creates a payment transaction, reads it back, prints both states; exits 1 on failure
//   node sealed-call.js --self-test
//       prints the seal of the Kit's check value (SPEC §3)
//
// Seal (Kit §5.3): base64url without padding of HMAC-SHA256(key, the operation's fields joined
// by "&", empty values skipped), sent as `ANCV-Security: HmacSHA256.{keyVersion}.{seal}`.
'use strict';

const crypto = require('crypto');

const API = '/acquisition/api/public/v1';

function seal(key, fields) {
    const message = fields.filter((v) => v !== undefined && v !== null && String(v) !== '').join('&');
    return crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(message, 'utf8').digest('base64url');
}

async function call(base, method, path, keyVersion, key, fields, body) {
    const headers = {'ANCV-Security': `HmacSHA256.${keyVersion}.${seal(key, fields)}`, Accept: 'application/json'};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(base.replace(/\/$/, '') + API + path,
        {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const reply = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(reply)}`);
    return reply;
}

async function main(argv) {
    if (argv[0] === '--self-test') {
        console.log(seal('663768ff68ad8ea6768bbf65163e9b0a', ['10000065', '100016', 'panier-33455', '42556', '500']));
        return;
    }
    if (argv.length !== 4) throw new Error('usage: node sealed-call.js <baseUrl> <shopId> <keyVersion> <key> | --self-test');
    const [base, shopId, keyVersion, key] = argv;
    const orderId = `node-${Date.now()}`;
    const body = {
        merchant: {shopId: Number(shopId)},
        order: {id: orderId, paymentId: '1', amount: {total: 1250, currency: '978'}},
        paymentMethod: {captureMode: 'NORMAL', tspdMode: '001'},
    };
    // Sealed fields of a creation: shopId, serviceProviderId (absent here), order id, payment id, total.
    const created = await call(base, 'POST', '/payment-transactions', keyVersion, key,
        [shopId, undefined, orderId, '1', 1250], body);
    const id = created.transaction.id;
    console.log(`created ${id} ${created.transaction.state}`);
    const read = await call(base, 'GET', `/payment-transactions/${encodeURIComponent(id)}`, keyVersion, key, [id]);
    console.log(`status ${id} ${read.transaction.state}`);
}

main(process.argv.slice(2)).catch((error) => {
    console.error(`sealed-call: ${error.message}`);
    process.exit(1);
});
