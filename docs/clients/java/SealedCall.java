// A sealed call to the Chèque-Vacances Connect Kit API (ancv-sandbox or ANCV's platform), with
// nothing but the JDK (javax.crypto.Mac, java.net.http.HttpClient: JDK 11+, single-file launch).
//
//   java SealedCall.java <baseUrl> <shopId> <keyVersion> <key>
//       creates a payment transaction, reads it back, prints both states; exits 1 on failure
//   java SealedCall.java --self-test
//       prints the seal of the Kit's check value (SPEC §3)
//
// Seal (Kit §5.3): base64url without padding of HMAC-SHA256(key, the operation's fields joined
// by "&", empty values skipped), sent as `ANCV-Security: HmacSHA256.{keyVersion}.{seal}`.

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class SealedCall {
    static final String API = "/acquisition/api/public/v1";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static String seal(String key, String... fields) throws Exception {
        List<String> kept = new ArrayList<>();
        for (String field : fields) {
            if (field != null && !field.isEmpty()) kept.add(field);
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] digest = mac.doFinal(String.join("&", kept).getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    }

    static String call(String base, String method, String path, String keyVersion, String key, String body,
                       String... fields) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.replaceAll("/$", "") + API + path))
                .header("ANCV-Security", "HmacSHA256." + keyVersion + "." + seal(key, fields))
                .header("Accept", "application/json");
        if (body == null) {
            request.GET();
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException(method + " " + path + ": " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    // The JDK has no JSON parser: the sample reads the two string fields it needs.
    static String field(String json, String name) {
        Matcher match = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!match.find()) throw new IllegalStateException("no " + name + " in " + json);
        return match.group(1);
    }

    public static void main(String[] args) {
        try {
            if (args.length == 1 && args[0].equals("--self-test")) {
                System.out.println(seal("663768ff68ad8ea6768bbf65163e9b0a", "10000065", "100016", "panier-33455", "42556", "500"));
                return;
            }
            if (args.length != 4) {
                throw new IllegalArgumentException("usage: java SealedCall.java <baseUrl> <shopId> <keyVersion> <key> | --self-test");
            }
            String base = args[0], shopId = args[1], keyVersion = args[2], key = args[3];
            String orderId = "java-" + System.currentTimeMillis();
            String body = "{\"merchant\":{\"shopId\":" + Long.parseLong(shopId) + "},"
                    + "\"order\":{\"id\":\"" + orderId + "\",\"paymentId\":\"1\",\"amount\":{\"total\":1250,\"currency\":\"978\"}},"
                    + "\"paymentMethod\":{\"captureMode\":\"NORMAL\",\"tspdMode\":\"001\"}}";
            // Sealed fields of a creation: shopId, serviceProviderId (absent here), order id, payment id, total.
            String created = call(base, "POST", "/payment-transactions", keyVersion, key, body,
                    shopId, null, orderId, "1", "1250");
            String id = field(created, "id");
            System.out.println("created " + id + " " + field(created, "state"));
            String read = call(base, "GET", "/payment-transactions/" + URLEncoder.encode(id, StandardCharsets.UTF_8),
                    keyVersion, key, null, id);
            System.out.println("status " + id + " " + field(read, "state"));
        } catch (Exception error) {
            System.err.println("SealedCall: " + error.getMessage());
            System.exit(1);
        }
    }
}
