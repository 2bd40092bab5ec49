package io.haproxyconfd.adapters.haproxy;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.cache.MultiTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.ext.beans.ZeroArgumentNonVoidMethodPolicy;
import freemarker.template.Configuration;
import freemarker.template.DefaultObjectWrapperBuilder;
import freemarker.template.Template;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import freemarker.template.TemplateHashModel;
import freemarker.template.TemplateModel;
import freemarker.template.TemplateModelException;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Lays a {@link Plan} out as haproxy.cfg with FreeMarker: an operator's template dir first. */
final class Renderer {
  static final String TEMPLATE = "haproxy.cfg.ftl";
  static final String BACKEND_TEMPLATE = "backend.ftl";
  private final Configuration freemarker;

  Renderer(Optional<Path> templateDir) {
    freemarker = new Configuration(Configuration.VERSION_2_3_35);
    DefaultObjectWrapperBuilder wrapper =
        new DefaultObjectWrapperBuilder(Configuration.VERSION_2_3_35);
    wrapper.setRecordZeroArgumentNonVoidMethodPolicy(
        ZeroArgumentNonVoidMethodPolicy.BOTH_METHOD_AND_PROPERTY_UNLESS_BEAN_PROPERTY_READ_METHOD);
    freemarker.setObjectWrapper(wrapper.build());
    freemarker.setDefaultEncoding("UTF-8");
    freemarker.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
    freemarker.setLogTemplateExceptions(false);
    freemarker.setWrapUncheckedExceptions(true);
    freemarker.setFallbackOnNullLoopVariable(false);
    TemplateLoader builtIn = new ClassTemplateLoader(Renderer.class, "");
    try {
      freemarker.setTemplateLoader(
          templateDir.isPresent()
              ? new MultiTemplateLoader(
                  new TemplateLoader[] {
                    new FileTemplateLoader(templateDir.get().toFile()), builtIn
                  })
              : builtIn);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "template directory " + templateDir.get() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Lays out the plan. Each HTTP backend is laid out by {@link #BACKEND_TEMPLATE} and kept: the
   * next render lays out again only the backends that changed (at 10,000 services, a write after a
   * runtime change lays out one backend, not 10,000, and makes that much less garbage). Renders may
   * run on two threads at once (a reload, the deferred write): each reads the kept layouts and
   * hands on its own.
   */
  String render(Plan plan) {
    StringWriter out = new StringWriter(64 * 1024 + 256 * plan.backends().size());
    render(plan, out);
    return out.toString();
  }

  /** Lays out the plan into {@code out}, as {@link #render(Plan)} does. */
  void render(Plan plan, java.io.Writer out) {
    try {
      Map<String, Laid> before = rendered;
      Map<String, Laid> now = new HashMap<>(plan.backends().size() * 2);
      Template backend = freemarker.getTemplate(BACKEND_TEMPLATE);
      List<BackendKey> missing = new ArrayList<>();
      BackendKey[] keys = new BackendKey[plan.backends().size()];
      Laid[] laid = new Laid[keys.length];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = new BackendKey(plan.backends().get(i), plan.serving());
        // Looked up by name and compared once: a record's hash walks every server of the backend,
        // and at 10,000 backends hashing each key per lookup cost more than the layouts saved.
        Laid kept = before.get(keys[i].backend().name());
        if (kept != null && kept.key().equals(keys[i])) {
          laid[i] = kept;
        } else {
          missing.add(keys[i]);
        }
      }
      // The first render lays out every backend: on all cores, as a template may be processed by
      // several threads at once.
      Map<String, String> laidOut = new java.util.concurrent.ConcurrentHashMap<>();
      boolean parallel = missing.size() >= PARALLEL_FROM;
      (parallel ? missing.parallelStream() : missing.stream())
          .forEach(key -> laidOut.put(key.backend().name(), layOut(backend, key)));
      lastInParallel = parallel;
      lastLaidOut = missing.size();
      List<String> texts = new ArrayList<>(laid.length);
      for (int i = 0; i < laid.length; i++) {
        String name = keys[i].backend().name();
        if (laid[i] == null) {
          laid[i] = new Laid(keys[i], laidOut.get(name));
        }
        if (now.put(name, laid[i]) != null) {
          throw new IllegalStateException("two backends named " + name);
        }
        texts.add(laid[i].text());
      }
      rendered = now;
      TemplateHashModel planModel = (TemplateHashModel) freemarker.getObjectWrapper().wrap(plan);
      TemplateModel backends = freemarker.getObjectWrapper().wrap(texts);
      TemplateHashModel model =
          new TemplateHashModel() {
            @Override
            public TemplateModel get(String key) throws TemplateModelException {
              return key.equals("renderedBackends") ? backends : planModel.get(key);
            }

            @Override
            public boolean isEmpty() {
              return false;
            }
          };
      freemarker.getTemplate(TEMPLATE).process(model, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TemplateException e) {
      throw new IllegalStateException(
          "template " + TEMPLATE + " failed: " + e.getMessageWithoutStackTop(), e);
    }
  }

  /** Above this many backends to lay out, they are laid out in parallel. */
  private static final int PARALLEL_FROM = 1_000;

  private static String layOut(Template backend, BackendKey key) {
    StringWriter out = new StringWriter();
    try {
      backend.process(Map.of("b", key.backend(), "serving", key.serving()), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TemplateException e) {
      throw new IllegalStateException(
          "template " + BACKEND_TEMPLATE + " failed: " + e.getMessageWithoutStackTop(), e);
    }
    return out.toString();
  }

  /** Whether the last render laid its backends out in parallel: for tests. */
  volatile boolean lastInParallel;

  /** How many backends the last render laid out, not taking them from before: for tests. */
  volatile int lastLaidOut;

  /** What one backend's layout depends on. */
  private record BackendKey(Plan.HttpBackend backend, Plan.Serving serving) {}

  /** A backend's layout and what it was laid out from. */
  private record Laid(BackendKey key, String text) {}

  /** The layout of each backend of the last render, by backend name (unique in a plan). */
  private volatile Map<String, Laid> rendered = Map.of();
}
