@IMP
Feature: Pulling a tenant from the ZPA API
  `c2clab tenant pull` fetches a tenant with the admin's own API client,
  legacy ZPA API key or ZIdentity (OneAPI) client, follows every page, waits
  out rate limits, and writes the bodies exactly as the API returned them,
  so importing them gives the tenant an import of saved bodies gives. Here
  the API is a loopback server replaying the bodies of fixtures/zpa
  (docs/ZPA_API.md); nothing leaves the machine.

  @IMP-3
  Scenario Outline: A pull with a <client> API client gives the saved bodies, every page
    Given a ZPA API replaying "fixtures/zpa/helpdesk"
    When the tenant is pulled with the <client> API client
    Then the pull succeeds
    And the pull fetched "application" in 2 pages
    And the pull fetched "rules.ACCESS_POLICY" in 2 pages
    And the pulled bodies are those of "fixtures/zpa/helpdesk"
    And nothing the pull printed names a credential

    Examples:
      | client |
      | legacy |
      | OneAPI |

  @IMP-3
  Scenario Outline: A refused sign-in says what to check and repeats no credential
    Given a ZPA API replaying "fixtures/zpa/helpdesk"
    And the ZPA API refuses sign-in
    When the tenant is pulled with the <client> API client
    Then the pull fails with "sign-in at"
    And the pull fails with "refused: HTTP 401"
    And the pull fails with "<check>"
    And nothing the pull printed names a credential

    Examples:
      | client | check                 |
      | legacy | ZPA_CLIENT_SECRET     |
      | OneAPI | ZSCALER_VANITY_DOMAIN |

  @IMP-3
  Scenario: A rate-limited page is fetched again after its Retry-After
    Given a ZPA API replaying "fixtures/zpa/helpdesk"
    And the ZPA API answers "rules.ACCESS_POLICY" with 429 and Retry-After "1" once
    When the tenant is pulled with the legacy API client
    Then the pull succeeds
    And the pull retried "rules.ACCESS_POLICY" after a 429
    And the pulled bodies are those of "fixtures/zpa/helpdesk"
    And nothing the pull printed names a credential

  @IMP-3
  Scenario: A tenant whose second page cannot be had is not pulled at all
    Given a ZPA API replaying "fixtures/zpa/incomplete-pages"
    When the tenant is pulled with the OneAPI API client
    Then the pull fails with "page=2"
    And the pull fails with "HTTP 404"
