import { Heading } from '../../../components/account/Heading.tsx';
import { LoginForm } from '../../../components/account/LoginForm.tsx';

export default function LoginPage() {
  return (
    <>
      <Heading messageKey="signInTitle" />
      <LoginForm />
    </>
  );
}
