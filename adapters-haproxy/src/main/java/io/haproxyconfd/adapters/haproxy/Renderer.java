package io.haproxyconfd.adapters.haproxy;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.cache.MultiTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.ext.beans.ZeroArgumentNonVoidMethodPolicy;
import freemarker.template.Configuration;
import freemarker.template.DefaultObjectWrapperBuilder;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/** Lays a {@link Plan} out as haproxy.cfg with FreeMarker: an operator's template dir first. */
final class Renderer {
  static final String TEMPLATE = "haproxy.cfg.ftl";
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

  String render(Plan plan) {
    try {
      StringWriter out = new StringWriter();
      freemarker.getTemplate(TEMPLATE).process(plan, out);
      return out.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (TemplateException e) {
      throw new IllegalStateException(
          "template " + TEMPLATE + " failed: " + e.getMessageWithoutStackTop(), e);
    }
  }
}
