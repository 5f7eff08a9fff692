//! `demo-app seed` on both backends: its users verify their addresses and staff join by
//! invitation, through the HTTP API as any client.

use serde_json::json;
use tests::*;

both_backends! {
    async fn the_demo_seed_verifies_its_users_and_staff_join_by_invitation(app: TestApp) {
        let seeded = demo_app::seed::seed(&app.router, app.mail_dir.path()).await.expect("the seed runs");
        assert_eq!(seeded.len(), 2);
        for company in &seeded {
            let login = app
                .post("/api/auth/token", &Auth::None, json!({"email": company.staff_email, "password": demo_app::seed::PASSWORD}))
                .await;
            login.assert_status(200);
            let staff = Auth::bearer_company(login.body["access"].as_str().unwrap(), &company.company_id);
            let me = app.get("/api/me", &staff).await;
            me.assert_status(200);
            assert_eq!(me.body["email_verified"], true);
            assert_eq!(me.body["active_company_id"], json!(company.company_id));
        }
    }
}
