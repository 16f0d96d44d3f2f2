package dev.caravan.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client over a plain socket, for the tests that must see exact bytes: golden stream
 * transcripts, and streams cut mid-way (the JDK client may drop chunks it already had when a stream breaks).
 */
public final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.socket.setSoTimeout(20_000); // a hang fails the test instead of blocking it
        this.in = socket.getInputStream();
    }

    /** Sends a POST and returns the open connection, positioned at the status line. */
    public static RawHttp post(int port, String path, String contentType, byte[] body, String... headers)
            throws IOException {
        RawHttp http = new RawHttp(new Socket("127.0.0.1", port));
        StringBuilder head = new StringBuilder()
                .append("POST ").append(path).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:").append(port).append("\r\n")
                .append("Connection: close\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n");
        if (contentType != null) {
            head.append("Content-Type: ").append(contentType).append("\r\n");
        }
        for (String header : headers) {
            head.append(header).append("\r\n");
        }
        head.append("\r\n");
        OutputStream out = http.socket.getOutputStream();
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        return http;
    }

    public static RawHttp postJson(int port, String path, String json, String... headers) throws IOException {
        return post(port, path, "application/json", json.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** Reads the whole response (until the last chunk or EOF). */
    public Response readAll() throws IOException {
        Response response = readHead();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean clean;
        if ("chunked".equalsIgnoreCase(response.headers.get("transfer-encoding"))) {
            clean = readChunks(body);
        } else if (response.headers.containsKey("content-length")) {
            int length = Integer.parseInt(response.headers.get("content-length"));
            clean = readFully(body, length);
        } else {
            in.transferTo(body);
            clean = true;
        }
        response.body = body.toString(StandardCharsets.UTF_8);
        response.cleanEnd = clean;
        return response;
    }

    /** Reads the status line and headers only; the body can then be read line by line with {@link #readLine}. */
    public Response readHead() throws IOException {
        Response response = new Response();
        String status = readLine();
        response.status = Integer.parseInt(status.split(" ")[1]);
        for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            response.headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        return response;
    }

    /** One CRLF- or LF-terminated line of raw bytes (chunk framing included), or null at EOF. */
    public String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
    }

    private boolean readChunks(ByteArrayOutputStream body) throws IOException {
        while (true) {
            String sizeLine = readLine();
            if (sizeLine == null) {
                return false; // EOF before the last chunk: the stream was cut
            }
            if (sizeLine.isEmpty()) {
                continue;
            }
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            if (size == 0) {
                readLine();
                return true;
            }
            if (!readFully(body, size)) {
                return false;
            }
        }
    }

    private boolean readFully(ByteArrayOutputStream body, int length) throws IOException {
        byte[] buffer = new byte[8192];
        int remaining = length;
        while (remaining > 0) {
            int n = in.read(buffer, 0, Math.min(buffer.length, remaining));
            if (n < 0) {
                return false;
            }
            body.write(buffer, 0, n);
            remaining -= n;
        }
        return true;
    }

    /** An open connection on which the test writes raw bytes itself (slow, silent or malformed requests). */
    public static RawHttp connect(int port) throws IOException {
        return new RawHttp(new Socket("127.0.0.1", port));
    }

    /** Writes these bytes (ISO-8859-1) as they are. */
    public RawHttp write(String raw) throws IOException {
        return write(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp write(byte[] raw) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(raw);
        out.flush();
        return this;
    }

    /**
     * True when the server closes the connection (EOF or reset) within the timeout; whatever it sends before is
     * read and dropped. False when the connection is still open when the timeout ends.
     */
    public boolean closedWithin(java.time.Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] sink = new byte[4096];
        try {
            while (true) {
                long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) left);
                if (in.read(sink) < 0) {
                    return true;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true; // reset by the server
        } finally {
            socket.setSoTimeout(20_000);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public static final class Response {
        public int status;
        public final Map<String, String> headers = new LinkedHashMap<>();
        public String body;
        /** False when the connection ended before the response did. */
        public boolean cleanEnd;

        /** The data payloads of an SSE body, in order. */
        public java.util.List<String> events() {
            java.util.List<String> events = new java.util.ArrayList<>();
            for (String line : body.split("\n")) {
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                }
            }
            return events;
        }
    }
}
