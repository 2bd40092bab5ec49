<#-- One HTTP backend: b is Plan.HttpBackend, serving is Plan.Serving. The result is kept and laid
     out again only when either changes, so that 10,000 backends are not laid out at every write. -->

backend ${b.name}
  balance ${b.balance}
<#if b.forceHttps>
  # To HTTPS with the path and query as the client sent them (the frontend's txn.pathq): the
  # frontend may have taken a prefix off the path.
  http-request redirect location https://%[req.hdr(host)]%[var(txn.pathq)] code 301 unless { ssl_fc }
</#if>
<#if b.userlist?has_content>
  http-request auth realm ${b.name} unless { http_auth(${b.userlist}) }
</#if>
<#if b.cookie?has_content>
  # The cookie's value is derived from the server's address, so it follows the backend, not the slot.
  cookie ${b.cookie} dynamic
  dynamic-cookie-key ${serving.cookieKey}
</#if>
<#if b.checkUri?has_content>
  option httpchk GET ${b.checkUri}
</#if>
<#list b.customLines as line>
  ${line}
</#list>
<#list b.servers as s>
  server ${s.name} ${s.address}:${s.port?c}<#if s.check> check<#if b.checkPort gt 0> port ${b.checkPort?c}</#if></#if><#if !s.enabled> disabled</#if>
</#list>
