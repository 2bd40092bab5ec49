import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A tiny backend for ./run demo and the image's test: answers "hello from NAME, you asked for PATH".
 * Arguments: NAME PORT [ADDRESS, default loopback].
 */
public class DemoBackend {
  public static void main(String[] args) throws Exception {
    String name = args[0];
    HttpServer server =
        HttpServer.create(
            new InetSocketAddress(
                args.length > 2 ? InetAddress.getByName(args[2]) : InetAddress.getLoopbackAddress(),
                Integer.parseInt(args[1])),
            16);
    server.createContext(
        "/",
        ex -> {
          byte[] body =
              ("hello from " + name + ", you asked for " + ex.getRequestURI().getPath() + "\n")
                  .getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }
}
